// The main of every simulating testbench: GoogleTest with SystemC warnings and
// errors counted as failures. A testbench binary holds exactly one TEST that
// elaborates and calls sc_start once (SystemC allows one elaboration per process).
#pragma once
