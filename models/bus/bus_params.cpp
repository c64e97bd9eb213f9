#include "bus/bus_params.hpp"

#include <fmt/format.h>

namespace memplast::bus {

void bind_params(cfg::Schema& s, BusParams& p) {
  s.add("bus.width_bytes", &p.width_bytes, 1, 64, "B",
        "Data bytes moved per bus beat; a transfer of n bytes takes ceil(n / width) beats",
        "assumption: 32-bit on-chip bus (AHB/AXI-lite class), matching the 32-bit registers");
  s.add("bus.f_clk_MHz", &p.f_clk_MHz, 1.0, 5000.0, "MHz", "Bus clock frequency",
        "assumption: digital clock of a 130 nm SoC");
  s.add("bus.cycles_per_transfer", &p.cycles_per_transfer, 0, 64, "cycles",
        "Fixed bus cycles per transaction (arbitration and address phase), before the data beats",
        "assumption: AHB-like one arbitration plus one address cycle");
  s.add("bus.max_burst_bytes", &p.max_burst_bytes, 4, 1 << 20, "B",
        "Longest transaction the bus accepts; longer ones get TLM_BURST_ERROR_RESPONSE",
        "assumption: 4 KiB, the AXI burst boundary");
  s.add("bus.e_beat_pJ", &p.e_beat_pJ, 0.0, 1000.0, "pJ",
        "Energy of one bus cycle that moves data or an address (a transaction of n bytes costs "
        "(bus.cycles_per_transfer + ceil(n / width)) x this), ledger (bus, read|write)",
        "assumption: about 0.25 pJ/bit for a short 32-bit on-chip bus at 130 nm");
  s.add_check([&p] { require_whole_words("bus.max_burst_bytes", p.max_burst_bytes); });
}

void require_whole_words(const char* key, std::int64_t bytes) {
  if (bytes % 4 != 0) {
    throw cfg::ConfigError(fmt::format("key '{}' = {} must be a multiple of 4", key, bytes));
  }
}

}  // namespace memplast::bus
