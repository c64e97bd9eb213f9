# Verilator for the RTL co-simulation (models/rtl, tb/cosim, docs/cosim.md).
# MEMPLAST_WITH_VERILATOR is ON by default when `verilator` is on PATH. Under CI=true a
# missing Verilator is an error, never a silent skip; so is asking for it without one.
# Debian ships SystemC without its CMake package, so verilator's own verilate() helper is
# not used: memplast_verilate() runs `verilator --cc --build` as a custom command and
# wraps the archive it builds; the runtime (verilated.cpp, verilated_threads.cpp) is
# compiled once here as memplast_verilated.
find_program(MEMPLAST_VERILATOR_BIN verilator)
find_program(MEMPLAST_YOSYS_BIN yosys)
set(_memplast_vlt_default OFF)
if(MEMPLAST_VERILATOR_BIN)
  set(_memplast_vlt_default ON)
endif()
option(MEMPLAST_WITH_VERILATOR "Build the RTL co-simulation tests with Verilator" ${_memplast_vlt_default})
if("$ENV{CI}" STREQUAL "true" AND NOT MEMPLAST_VERILATOR_BIN)
  message(FATAL_ERROR "CI=true but verilator was not found: the RTL co-simulation (tb/cosim) "
                      "must run in CI (install the Debian package verilator, scripts/setup)")
endif()
if(MEMPLAST_WITH_VERILATOR AND NOT MEMPLAST_VERILATOR_BIN)
  message(FATAL_ERROR "MEMPLAST_WITH_VERILATOR=ON but verilator was not found "
                      "(install the Debian package verilator, or configure with -DMEMPLAST_WITH_VERILATOR=OFF)")
endif()

if(MEMPLAST_WITH_VERILATOR)
  execute_process(COMMAND ${MEMPLAST_VERILATOR_BIN} --getenv VERILATOR_ROOT
                  OUTPUT_VARIABLE MEMPLAST_VERILATOR_ROOT OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${MEMPLAST_VERILATOR_BIN} --version
                  OUTPUT_VARIABLE _memplast_vlt_version OUTPUT_STRIP_TRAILING_WHITESPACE)
  message(STATUS "Verilator: ${_memplast_vlt_version} (${MEMPLAST_VERILATOR_ROOT})")
  set(_vinc ${MEMPLAST_VERILATOR_ROOT}/include)
  add_library(memplast_verilated STATIC ${_vinc}/verilated.cpp ${_vinc}/verilated_threads.cpp)
  target_include_directories(memplast_verilated SYSTEM PUBLIC ${_vinc} ${_vinc}/vltstd)
  target_compile_definitions(memplast_verilated PUBLIC VM_COVERAGE=0 VM_SC=0 VM_TRACE=0
                                                       VM_TRACE_VCD=0 VM_TRACE_FST=0 VM_TIMING=0)
  target_compile_options(memplast_verilated PRIVATE -w)
  target_link_libraries(memplast_verilated PUBLIC Threads::Threads)
endif()

# memplast_verilate(<target> TOP <module> SOURCES <sv...> [ARGS <verilator args...>]):
# an INTERFACE target carrying the Verilated C++ model V<module> (header V<module>.h)
# and the Verilator runtime.
function(memplast_verilate target)
  cmake_parse_arguments(V "" "TOP" "SOURCES;ARGS" ${ARGN})
  set(mdir ${CMAKE_CURRENT_BINARY_DIR}/${target}_obj)
  set(lib ${mdir}/V${V_TOP}__ALL.a)
  add_custom_command(
    OUTPUT ${lib} ${mdir}/V${V_TOP}.h
    COMMAND ${MEMPLAST_VERILATOR_BIN} --cc --build -j 1 -Wall --Mdir ${mdir} --top-module ${V_TOP}
            --prefix V${V_TOP} -CFLAGS -std=gnu++17 ${V_ARGS} ${V_SOURCES}
    DEPENDS ${V_SOURCES}
    COMMENT "Verilating ${V_TOP}"
    VERBATIM)
  add_custom_target(${target}_verilate DEPENDS ${lib})
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_verilate)
  target_include_directories(${target} SYSTEM INTERFACE ${mdir})
  target_link_libraries(${target} INTERFACE ${lib} memplast_verilated)
endfunction()
