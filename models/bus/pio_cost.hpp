// The contention-free cost of a host access over the system bus (programmed I/O), plain
// C++: one home for the formulas that bus::Router (bus occupancy), bus::Host (burst
// split) and bus::Target (per-word access time) apply in hardware mode, and that the
// functional backend (models/functional) charges per operation without a bus.
//
//   a transaction of n bytes occupies the bus  (bus.cycles_per_transfer + ceil(n /
//   bus.width_bytes)) cycles of bus.f_clk_MHz and costs bus.e_beat_pJ per cycle; the target adds
//   one cycle of its clock per 32-bit word (tile: tile.f_clk_MHz, meta_unit: meta.f_clk_MHz;
//   pv_ctrl and sysctl: none). The host splits a block transfer into bursts of host.burst_bytes.
#pragma once

#include <cstdint>

#include "bus/bus_params.hpp"

namespace memplast::bus {

// Bus cycles of one transaction of `bytes` (address phase plus data beats), no waiting.
std::uint64_t transfer_cycles(const BusParams& p, std::uint64_t bytes);

// A host access of `bytes` (a register access, or a block transfer split into bursts),
// without contention.
struct PioAccess {
  std::uint64_t transactions{0};
  std::uint64_t bus_cycles{0};
  double bus_s{0};     // bus occupancy
  double target_s{0};  // the target's per-word access time
  double energy_J{0};  // bus energy (bus.e_beat_pJ per bus cycle)
  [[nodiscard]] double total_s() const { return bus_s + target_s; }
};

// `word_s`: the target's time per 32-bit word (0 for pv_ctrl, sysctl); `burst_bytes`:
// host.burst_bytes (the HAL's block split).
PioAccess pio_access(const BusParams& p, std::int64_t burst_bytes, std::uint64_t bytes,
                     double word_s);

}  // namespace memplast::bus
