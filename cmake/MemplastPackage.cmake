# The installable package memplast: install() and export() of the model libraries.
#
#   cmake --install build/release --prefix <prefix>
#   find_package(memplast CONFIG REQUIRED)   # with CMAKE_PREFIX_PATH=<prefix>
#   target_link_libraries(app PRIVATE memplast::tile_sc)
#
# Installed layout (docs/architecture.md, "Using memplast as a package"):
#   include/memplast/<block>/...   models/<block>/ headers (bus/gen/regs.hpp included)
#   include/memplast/common/version.hpp   the configured version header
#   include/memplast/fw/...        sw/fw/ headers (the firmware's "fw/..." includes)
#   include/memplast/sw/...        sw/hal, sw/drivers, sw/include ("sw/hal/hal.hpp")
#   lib/libmemplast_*.a            the libraries, exported as memplast::<name>
#   lib/cmake/memplast/            memplastConfig.cmake, ConfigVersion, Targets
#   bin/memplast                   the command-line program
# Users include <memplast/tile/tile_sc.hpp>; the exported targets carry include/ and
# include/memplast/, so the installed headers' own "tile/..." includes resolve unchanged.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MEMPLAST_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/memplast)
set(_inc ${CMAKE_INSTALL_INCLUDEDIR}/memplast)

# Headers. The command-line library (models/cli) is not part of the package.
foreach(sub common data config sim trace device tile pv meta bus functional system explore)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/${sub}/ DESTINATION ${_inc}/${sub}
          COMPONENT memplast_dev FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/generated/common/version.hpp DESTINATION ${_inc}/common
        COMPONENT memplast_dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sw/fw/ DESTINATION ${_inc}/fw COMPONENT memplast_dev
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
foreach(sub hal drivers include)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/sw/${sub}/ DESTINATION ${_inc}/sw/${sub}
          COMPONENT memplast_dev FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
endforeach()

# Libraries: every memplast_add_library target (except NO_EXPORT ones) and the few made
# by hand, as registered with memplast_export(). memplast_warnings goes along only so
# that the build-tree export can name it: its flags are BUILD_INTERFACE-only, and the
# libraries link it as $<BUILD_INTERFACE:...>, so consumers never see the flags.
get_property(_targets GLOBAL PROPERTY MEMPLAST_EXPORTED_TARGETS)
set_target_properties(memplast_warnings PROPERTIES EXPORT_NAME warnings)
install(TARGETS ${_targets} memplast_warnings EXPORT memplastTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT memplast_dev
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT memplast_dev)
if(TARGET memplast)
  install(TARGETS memplast RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT memplast_bin)
endif()
install(EXPORT memplastTargets NAMESPACE memplast:: DESTINATION ${MEMPLAST_INSTALL_CMAKEDIR}
        COMPONENT memplast_dev)

# memplastConfig.cmake finds the dependencies the same way this build found them.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/memplastConfig.cmake.in
  ${PROJECT_BINARY_DIR}/memplastConfig.cmake INSTALL_DESTINATION ${MEMPLAST_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the interface.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/memplastConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/memplastConfig.cmake
              ${PROJECT_BINARY_DIR}/memplastConfigVersion.cmake
        DESTINATION ${MEMPLAST_INSTALL_CMAKEDIR} COMPONENT memplast_dev)

# The build tree as a package too (memplast_DIR=<build dir>): same targets, with the
# source-tree include roots ("tile/tile_sc.hpp"; <memplast/...> only when installed).
export(EXPORT memplastTargets NAMESPACE memplast:: FILE ${PROJECT_BINARY_DIR}/memplastTargets.cmake)
