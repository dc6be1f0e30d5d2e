# The packages dosim's libraries need, found the same way when dosim builds and when a
# project finds the installed package (dosimConfig.cmake includes this file). Debian
# bookworm: libyaml-cpp-dev, libboost-graph-dev, libhdf5-dev, libhwy-dev, liblua5.4-dev,
# nlohmann-json3-dev, libre2-dev.
#
# Inside find_package(dosim) a missing dependency makes dosim not found (with find_package's
# REQUIRED and QUIET passed on); in dosim's own build it is an error at once.
include(CMakeFindDependencyMacro)
macro(dosim_find_dependency)
  if(CMAKE_FIND_PACKAGE_NAME)
    find_dependency(${ARGV})
  else()
    find_package(${ARGV} REQUIRED)
  endif()
endmacro()

dosim_find_dependency(PkgConfig)
dosim_find_dependency(yaml-cpp)
dosim_find_dependency(Boost 1.74)
# FindHDF5 probes a binding with that language's compiler: C where the project enabled C
# (dosim itself), else C++ (a C++-only project that finds dosim; it adds libhdf5_cpp, unused).
# list(FIND), not IN_LIST: a project whose policies predate CMake 3.3 (no
# cmake_minimum_required) finds dosim too.
get_property(dosim_enabled_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
list(FIND dosim_enabled_languages C dosim_c_index)
if(dosim_c_index GREATER -1)
  dosim_find_dependency(HDF5 COMPONENTS C)
else()
  dosim_find_dependency(HDF5 COMPONENTS CXX)
endif()
dosim_find_dependency(nlohmann_json)
dosim_find_dependency(Threads)
dosim_find_dependency(hwy)                                      # SIMD kernels (detectors)
if(NOT TARGET PkgConfig::LUA)
  pkg_check_modules(LUA REQUIRED IMPORTED_TARGET GLOBAL lua5.4-c++)  # C++-built Lua
endif()
if(NOT TARGET PkgConfig::RE2)
  pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET GLOBAL re2)  # Alertmanager's Go regexes
endif()
# The LSTM's CUDA kernel links the CUDA runtime: dosim built with -DDOSIM_CUDA=ON, or an
# installed dosim built so (dosimConfig.cmake sets dosim_CUDA).
if(DOSIM_CUDA OR dosim_CUDA)
  dosim_find_dependency(CUDAToolkit)
endif()
