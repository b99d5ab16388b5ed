# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#       -DCXX=... -P run_install_test.cmake
#
# 1. cmake --install BUILD_DIR into WORK_DIR/prefix (fresh each run);
# 2. configure + build SOURCE_DIR (the consumer) with
#    CMAKE_PREFIX_PATH=WORK_DIR/prefix and run it;
# 3. compile the same main.cc with the flags of
#    `pkg-config --cflags --libs --static flowacct` and run it.
# Fails (FATAL_ERROR) at the first step that does not succeed.
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_install_test.cmake: ${var} not set")
  endif()
endforeach()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "[${step}] ${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: step '${step}' failed (${rc})")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run(install ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# --- find_package(flowacct) ---------------------------------------------------
run(cmake-configure ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/cmake-build
    -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(cmake-build ${CMAKE_COMMAND} --build ${WORK_DIR}/cmake-build)
run(cmake-consumer ${WORK_DIR}/cmake-build/consumer)

# --- pkg-config --static flowacct ----------------------------------------------
find_program(PKG_CONFIG pkg-config REQUIRED)
file(GLOB pc_dirs ${prefix}/lib*/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "${pc_dirs}")
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs --static flowacct
                RESULT_VARIABLE rc OUTPUT_VARIABLE flags ERROR_VARIABLE err
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --static flowacct failed: ${err}")
endif()
message(STATUS "[pkg-config] ${flags}")
separate_arguments(flag_list UNIX_COMMAND "${flags}")
run(pkgconfig-build ${CXX} -O1 ${SOURCE_DIR}/main.cc -o
    ${WORK_DIR}/pkgconfig-consumer ${flag_list})
run(pkgconfig-consumer ${WORK_DIR}/pkgconfig-consumer)
