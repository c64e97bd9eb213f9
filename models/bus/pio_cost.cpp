#include "bus/pio_cost.hpp"

#include <algorithm>

namespace memplast::bus {

std::uint64_t transfer_cycles(const BusParams& p, std::uint64_t bytes) {
  const auto w = static_cast<std::uint64_t>(p.width_bytes);
  return static_cast<std::uint64_t>(p.cycles_per_transfer) + (bytes + w - 1) / w;
}

PioAccess pio_access(const BusParams& p, std::int64_t burst_bytes, std::uint64_t bytes,
                     double word_s) {
  PioAccess a;
  const auto burst = static_cast<std::uint64_t>(burst_bytes);
  for (std::uint64_t done = 0; done < bytes; done += burst) {
    const std::uint64_t n = std::min(burst, bytes - done);
    ++a.transactions;
    a.bus_cycles += transfer_cycles(p, n);
  }
  a.bus_s = static_cast<double>(a.bus_cycles) / (p.f_clk_MHz * 1e6);
  a.target_s = static_cast<double>(bytes / 4) * word_s;
  a.energy_J = static_cast<double>(a.bus_cycles) * p.e_beat_pJ * 1e-12;
  return a;
}

}  // namespace memplast::bus
