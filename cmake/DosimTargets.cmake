# dosim_library(NAME FOLDER): a static library of FOLDER's *.cc with the settings every dosim
# target shares: C++20, the warnings, the public headers (include/) in the build tree and
# once installed, and the source root for the folder-private headers in the build tree only.
# Exported as dosim::<FOLDER>.
function(dosim_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  # nvcc (lstm_cuda.cu) hands the host compiler code with GNU line markers, which
  # -Wpedantic flags on every line: CUDA sources get the other two warnings only.
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
                                           $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
  # __FILE__ (assert messages) relative to the checkout, so no path of the source or build
  # tree is compiled into a binary (debug info, in Debug builds, still names them).
  target_compile_options(${target} PRIVATE -fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=)
endfunction()

# dosim_add_library(NAME EXPORT_NAME SOURCES...): a static library of those sources with the
# same settings, exported as dosim::<EXPORT_NAME>.
function(dosim_add_library name export_name)
  add_library(${name} STATIC ${ARGN})
  add_library(dosim::${export_name} ALIAS ${name})
  # Not position-independent unless asked (-DCMAKE_POSITION_INDEPENDENT_CODE=ON, for a
  # shared module that links them): -fPIC cost the simulation about 10 %.
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${export_name})
  dosim_target_defaults(${name})
  target_include_directories(${name} PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_property(GLOBAL APPEND PROPERTY DOSIM_LIBRARIES ${name})
endfunction()

# dosim_library(NAME FOLDER [EXCLUDE FILE...]): FOLDER's *.cc but the EXCLUDEd ones (a library
# of their own), exported as dosim::<FOLDER>.
function(dosim_library name folder)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "EXCLUDE")
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${folder}/*.cc)
  foreach(excluded IN LISTS arg_EXCLUDE)
    list(REMOVE_ITEM sources ${PROJECT_SOURCE_DIR}/${folder}/${excluded})
  endforeach()
  dosim_add_library(${name} ${folder} ${sources})
endfunction()
