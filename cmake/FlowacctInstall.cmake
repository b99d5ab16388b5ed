# Installs libflowacct as a CMake package (find_package(flowacct) ->
# flowacct::flowacct) and a pkg-config file (flowacct.pc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS flowacct EXPORT flowacctTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The flowacct.v1 output schema (print_output: protobuf, binary sinks), for
# readers in any language: protoc --proto_path=<datadir>/flowacct/proto.
install(FILES ${PROJECT_SOURCE_DIR}/libflowacct/sink/proto/flowacct.proto
        DESTINATION ${CMAKE_INSTALL_DATADIR}/flowacct/proto/flowacct/v1)
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

# pkg-config module names of libflowacct's link-time dependencies. Keep in
# step with target_link_libraries(flowacct ...) in libflowacct/CMakeLists.txt
# (Abseil ships one .pc per CMake target: absl::flat_hash_map ->
# absl_flat_hash_map). libpcap goes in Libs.private as -lpcap rather than
# Requires.private: Debian's libpcap.pc lists libdbus-1 and libsystemd as
# its own private requirements, which `--static` would drag in although the
# shared libpcap is what gets linked.
set(FLOWACCT_PC_REQUIRES_PRIVATE
    "protobuf fmt absl_flat_hash_map absl_hash absl_strings absl_str_format")
# The client libraries of the sink backends that were built
# (libflowacct/CMakeLists.txt) go in Libs.private as their shared-library
# flags (`pkg-config --libs`), not in Requires.private: Debian's libpq.pc
# lists static-only libraries (-lpgcommon -lpgport) for `--static`, which
# would not link, and their include paths are not needed (public headers
# use only the standard library).
set(FLOWACCT_PC_LIBS_PRIVATE "${FLOWACCT_BACKEND_PC_LIBS}")
# The .pc file locates the prefix relative to itself (${pcfiledir}), so the
# install tree can be moved or installed with `cmake --install --prefix`.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(FLOWACCT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH flowacct_pc_up "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig"
       "/root")
  string(REGEX REPLACE "/$" "" flowacct_pc_up "${flowacct_pc_up}")
  set(FLOWACCT_PC_PREFIX "\${pcfiledir}/${flowacct_pc_up}")
endif()
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/flowacct.pc.in
               ${CMAKE_CURRENT_BINARY_DIR}/flowacct.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/flowacct.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(TARGET flowacct_cli)
  install(TARGETS flowacct_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
