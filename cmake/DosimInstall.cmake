# `cmake --install`: the dosim binary, the static libraries, the public headers
# (include/dosim), the CMake package (dosimConfig.cmake, imported targets dosim::dosim and
# its parts dosim::engine, dosim::detectors, dosim::analysis, dosim::scripting, dosim::run,
# dosim::util), and the data the binary finds at run time under share/dosim (models, the
# scenario schema, the bundled scenarios and scripts).
include(CMakePackageConfigHelpers)

get_property(dosim_libraries GLOBAL PROPERTY DOSIM_LIBRARIES)
install(TARGETS dosim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${dosim_libraries} dosim_all EXPORT dosimTargets   # include/: dosim_library
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/dosim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/dosim/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dosim)

set(dosim_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/dosim)
install(EXPORT dosimTargets NAMESPACE dosim:: DESTINATION ${dosim_cmake_dir})
set(DOSIM_DATA_DIR ${CMAKE_INSTALL_DATADIR}/dosim)  # dosim_DATA_DIR in dosimConfig.cmake
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dosimConfig.cmake.in
    ${PROJECT_BINARY_DIR}/dosimConfig.cmake INSTALL_DESTINATION ${dosim_cmake_dir}
    PATH_VARS DOSIM_DATA_DIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dosimConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dosimConfig.cmake
              ${PROJECT_BINARY_DIR}/dosimConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/dosimDependencies.cmake
        DESTINATION ${dosim_cmake_dir})

# Data found relative to the binary: <prefix>/share/dosim (util/data_dir.h).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models DESTINATION ${DOSIM_DATA_DIR}
        FILES_MATCHING PATTERN "*.h5" PATTERN "*.md")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/scenarios ${PROJECT_SOURCE_DIR}/scripts
                  ${PROJECT_SOURCE_DIR}/labs
        DESTINATION ${DOSIM_DATA_DIR})
