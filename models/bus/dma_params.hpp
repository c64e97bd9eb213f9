// Parameters of the DMA engine (keys dma.*) and of the host memory it serves (keys
// host_mem.*): plain aggregates whose member initializers are the keys' defaults.
#pragma once

#include <cstdint>

#include "common/schema.hpp"

namespace memplast::bus {

struct DmaParams {
  double f_clk_MHz{200.0};             // engine clock (descriptor fetch, conversion)
  std::int64_t burst_bytes{1024};      // longest bus transaction the engine issues
  std::int64_t cycles_per_burst{2};    // engine cycles per burst (address generation)
  std::int64_t elements_per_cycle{4};  // format conversion throughput
  double e_beat_pJ{0.5};               // engine energy per 32-bit word it moves
};

struct HostMemParams {
  std::int64_t size_MiB{16};   // backed size (the map window is 256 MiB)
  double latency_ns{40.0};     // first word of an access
  double bandwidth_GBps{1.6};  // bytes per ns after the first word
  double e_byte_pJ{2.5};       // energy per byte read or written
};

void bind_params(cfg::Schema& s, DmaParams& p);
void bind_params(cfg::Schema& s, HostMemParams& p);

}  // namespace memplast::bus
