// The metaplasticity unit's cost model (docs/meta.md), plain C++: cycles per operation
// and SRAM traffic, read by the SystemC shell (meta_unit), as the tile's cost model
// lives in its core. With P = 2 cycles per lane group with one SRAM port, 1 with two:
//   ACCUMULATE, STEP: pipeline_depth + ceil(n / lanes) * P cycles (op_cycles)
//   NEW_TASK, CLEAR_ACC: ceil(n / lanes) cycles (sweep_cycles)
//   weight i leaves the STEP pipeline at pipeline_depth + (floor(i / lanes) + 1) * P.
#pragma once

#include <cstdint>

#include "meta/meta_core.hpp"

namespace memplast::meta {

// ceil(n / lanes): one pass over n weights, one lane group per cycle.
std::uint64_t sweep_cycles(const MetaParams& p, std::uint64_t n);
// Cycles of an ACCUMULATE or STEP over n weights.
std::uint64_t op_cycles(const MetaParams& p, std::uint64_t n);
// Cycle (from the start) at which weight i's result leaves the update pipeline.
std::uint64_t ready_cycle(const MetaParams& p, std::uint64_t i);

// Bits of optimizer state per weight (Adam: m, exponent and v significand; SGD with
// momentum: m; plain SGD: none).
std::int64_t optimizer_state_bits(const MetaParams& p);
// 64-bit SRAM accesses of one operation over n weights (fractional: n * bits / 64).
double sram_accesses_accumulate(const MetaParams& p, std::uint64_t n);  // accumulator read + write
double sram_accesses_step(const MetaParams& p, std::uint64_t n);       // hidden, state, accumulator
double sram_accesses_new_task(const MetaParams& p, std::uint64_t n);   // optimizer state cleared
double sram_accesses_clear_acc(const MetaParams& p, std::uint64_t n);  // accumulator cleared

}  // namespace memplast::meta
