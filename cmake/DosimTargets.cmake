# dosim_library(NAME FOLDER): a static library of FOLDER's *.cc with the settings every dosim
# target shares: C++20, the warnings, the public headers (include/) in the build tree and
# once installed, and the source root for the folder-private headers in the build tree only.
# Exported as dosim::<FOLDER>.
function(dosim_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  # __FILE__ (assert messages) relative to the checkout, so no path of the source or build
  # tree is compiled into a binary (debug info, in Debug builds, still names them).
  target_compile_options(${target} PRIVATE -fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=)
endfunction()

function(dosim_library name folder)
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${folder}/*.cc)
  add_library(${name} STATIC ${sources})
  add_library(dosim::${folder} ALIAS ${name})
  # Not position-independent unless asked (-DCMAKE_POSITION_INDEPENDENT_CODE=ON, for a
  # shared module that links them): -fPIC cost the simulation about 10 %.
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${folder})
  dosim_target_defaults(${name})
  target_include_directories(${name} PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_property(GLOBAL APPEND PROPERTY DOSIM_LIBRARIES ${name})
endfunction()
