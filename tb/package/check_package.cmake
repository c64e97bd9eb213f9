# The package test (ctest label "package"; tb/CMakeLists.txt): install memplast from the
# build tree to a scratch prefix, configure and build tb/package/consumer against it
# with find_package(memplast CONFIG REQUIRED), and run the consumer, which elaborates
# one tile and drives it through its TLM socket.
#
#   cmake -DBUILD_DIR=<memplast build> -DCONSUMER_DIR=<tb/package/consumer>
#         -DWORK_DIR=<scratch> -DGENERATOR=<gen> -DCXX=<compiler> [-DLAUNCHER=ccache]
#         [-DCXX_FLAGS=<compile flags>] [-DLINK_FLAGS=<link flags>]
#         -P check_package.cmake
# WORK_DIR is deleted first: <WORK_DIR>/prefix is the install, <WORK_DIR>/build the
# consumer's build tree (a fixed path, so that ccache hits across runs).
cmake_minimum_required(VERSION 3.22)
foreach(v BUILD_DIR CONSUMER_DIR WORK_DIR GENERATOR CXX)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "check_package.cmake: -D${v}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

message(STATUS "install ${BUILD_DIR} -> ${prefix}")
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)

# The installed package must not point back into the source or build tree.
get_filename_component(source_dir ${CONSUMER_DIR}/../../.. ABSOLUTE)
file(GLOB_RECURSE cmake_files ${prefix}/*.cmake)
if(NOT cmake_files)
  message(FATAL_ERROR "no CMake package files installed under ${prefix}")
endif()
foreach(f ${cmake_files})
  file(READ ${f} text)
  foreach(tree ${source_dir} ${BUILD_DIR})
    string(FIND "${text}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names ${tree}: the installed package is not relocatable")
    endif()
  endforeach()
endforeach()

# Every quoted include in an installed header resolves inside include/memplast/ (the
# consumer below compiles only the headers the tile needs).
file(GLOB_RECURSE headers ${prefix}/include/memplast/*.hpp ${prefix}/include/memplast/*.h)
list(LENGTH headers n_headers)
foreach(h ${headers})
  file(STRINGS ${h} includes REGEX "^#include \"")
  foreach(line ${includes})
    string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" inc "${line}")
    if(NOT EXISTS ${prefix}/include/memplast/${inc})
      message(FATAL_ERROR "${h} includes \"${inc}\", which is not installed")
    endif()
  endforeach()
endforeach()
message(STATUS "${n_headers} installed headers, every quoted include installed")

set(launcher)
if(LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
message(STATUS "configure ${CONSUMER_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${build} -G ${GENERATOR}
                        -DCMAKE_BUILD_TYPE= "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
                        "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}" -DCMAKE_CXX_COMPILER=${CXX} ${launcher}
                        -DCMAKE_PREFIX_PATH=${prefix}
                        -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
                COMMAND_ERROR_IS_FATAL ANY)
# The package found must be the one just installed.
file(STRINGS ${build}/CMakeCache.txt found REGEX "^memplast_DIR:")
string(FIND "${found}" "memplast_DIR:PATH=${prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "the consumer found memplast elsewhere: ${found}")
endif()
message(STATUS "build the consumer")
execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} COMMAND_ERROR_IS_FATAL ANY)
message(STATUS "run the consumer")
execute_process(COMMAND ${build}/consumer RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer failed (exit ${rc})")
endif()
message(STATUS "package test passed")
