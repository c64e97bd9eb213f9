// Parameters of the host core that runs the firmware (keys host.*), the one owner of
// those keys: its compute model (clock, operations per cycle, energy per operation:
// charged by the functional backend and the hardware mode's run) and the TLM host's
// temporal decoupling and burst size (bus::Host). A plain aggregate whose member
// initializers are the keys' defaults.
#pragma once

#include <cstdint>
#include <string>

#include "common/schema.hpp"

namespace memplast::bus {

struct HostParams {
  double f_clk_MHz{200.0};           // host core clock
  double macs_per_cycle{8.0};        // multiply-accumulates per cycle
  double ops_per_cycle{4.0};         // non-MAC operations (add, compare, activation) per cycle
  double e_mac_pJ{1.0};              // energy of one multiply-accumulate
  double e_op_pJ{0.5};               // energy of one other operation
  double quantum_ns{1000.0};         // global quantum of the temporal decoupling
  std::int64_t burst_bytes{256};     // the HAL splits block transfers into bursts of this size
  bool lazy_sync{true};              // skip quantum syncs that nothing else could observe
  std::string data_movement{"pio"};  // pio: the host moves the data; dma: the DMA engine does
};

void bind_params(cfg::Schema& s, HostParams& p);

}  // namespace memplast::bus
