# The packages dosim's libraries need, found the same way when dosim builds and when a
# project finds the installed package (dosimConfig.cmake includes this file). Debian
# bookworm: libyaml-cpp-dev, libboost-graph-dev, libhdf5-dev, libhwy-dev, liblua5.4-dev,
# nlohmann-json3-dev.
include(CMakeFindDependencyMacro)
find_dependency(PkgConfig)
find_dependency(yaml-cpp)
find_dependency(Boost 1.74)
find_dependency(HDF5 COMPONENTS C)
find_dependency(nlohmann_json)
find_dependency(Threads)
find_dependency(hwy)                                            # SIMD kernels (detectors)
if(NOT TARGET PkgConfig::LUA)
  pkg_check_modules(LUA REQUIRED IMPORTED_TARGET GLOBAL lua5.4-c++)  # C++-built Lua
endif()
