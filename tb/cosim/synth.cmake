# cmake -DYOSYS=... -DSV=<file.sv> -DTOP=<module> -DLEVEL=gate|word -P synth.cmake:
# synthesises TOP with yosys (synth -noshare: without SAT-based resource sharing) and
# prints the cell count; fails on any yosys error or an empty netlist.
#   gate: the whole flow, down to yosys' generic gate library (AND/OR/XOR/MUX/DFF cells)
#   word: the coarse part of the flow (synth -run begin:fine: elaborated, optimised,
#         memories and arithmetic extracted), a netlist of word-level cells ($alu, $macc,
#         $mux, $sshr, $mem, flip-flops); for a block whose gate-level mapping takes
#         minutes (meta_update's 64-bit datapath), docs/cosim.md gives its gate count.
if(LEVEL STREQUAL "word")
  set(flow "synth -top ${TOP} -noshare -run begin:fine")
else()
  set(flow "synth -top ${TOP} -noshare")
endif()
execute_process(
  COMMAND ${YOSYS} -q -p "read_verilog -sv ${SV}; ${flow}; tee -o /dev/stdout stat"
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "yosys synth of ${TOP} (${SV}) failed (${rc}):\n${err}\n${out}")
endif()
string(REGEX MATCH "Number of cells: *([0-9]+)" _m "${out}")
if(NOT CMAKE_MATCH_1 OR CMAKE_MATCH_1 EQUAL 0)
  message(FATAL_ERROR "yosys synth of ${TOP}: no cell count in its report:\n${out}")
endif()
set(cells ${CMAKE_MATCH_1})
message("${out}")
message("yosys synth ${TOP} (${LEVEL} level): ${cells} cells")
