# Installs libflowacct as a CMake package (find_package(flowacct) ->
# flowacct::flowacct) and a pkg-config file (flowacct.pc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS flowacct EXPORT flowacctTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT flowacctTargets NAMESPACE flowacct::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flowacct)
configure_package_config_file(
  ${CMAKE_CURRENT_SOURCE_DIR}/cmake/flowacctConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/flowacctConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flowacct)
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/flowacctConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/flowacctConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/flowacctConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flowacct)

configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/flowacct.pc.in
               ${CMAKE_CURRENT_BINARY_DIR}/flowacct.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/flowacct.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(TARGET flowacct_cli)
  install(TARGETS flowacct_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
