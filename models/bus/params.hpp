// Parameters of the system bus (keys bus.*) and of the host that runs the firmware
// (keys host.*). Plain aggregates with the defaults of the paper configuration.
#pragma once

#include <cstdint>

#include "common/schema.hpp"

namespace memplast::bus {

struct BusParams {
  std::int64_t width_bytes{4};          // data bytes per beat
  double f_clk_MHz{200.0};              // bus clock
  std::int64_t cycles_per_transfer{2};  // arbitration + address phase, per transaction
  std::int64_t max_burst_bytes{4096};   // longest transaction the bus accepts
};

// The TLM host's runtime parameters. Only quantum_ns and burst_bytes are keys of this
// library (host.quantum_ns, host.burst_bytes); the compute model's host.f_clk_MHz,
// host.ops_per_cycle and host.macs_per_cycle belong to the firmware's parameters
// (sw/fw/train_params.cpp, fw::HostParams) and the system top copies them in. The
// defaults here equal those keys' defaults.
struct HostParams {
  double f_clk_MHz{200.0};        // host core clock
  double ops_per_cycle{4.0};      // non-MAC operations (add, compare, activation) per cycle
  double macs_per_cycle{8.0};     // multiply-accumulates per cycle
  double quantum_ns{1000.0};      // global quantum of the temporal decoupling
  std::int64_t burst_bytes{256};  // the HAL splits block transfers into bursts of this size
};

void bind_params(cfg::Schema& s, BusParams& p);
// Binds host.quantum_ns and host.burst_bytes (see HostParams).
void bind_params(cfg::Schema& s, HostParams& p);

}  // namespace memplast::bus
