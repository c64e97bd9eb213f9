// Fault injection into program-and-verify and pv_ctrl's queue, and the firmware's
// recovery policy (keys faults.*). The device faults (stuck cells at a rate or at given
// cells and times, wear-out) are device.* keys. A plain aggregate whose member
// initializers are the keys' defaults: no fault injected, recovery on. See
// docs/reliability.md.
#pragma once

#include <cstdint>
#include <vector>

#include "common/schema.hpp"

namespace memplast::pv {

struct FaultParams {
  // Program-and-verify failures: a device's P&V loop ends reporting failure (the verify
  // does not confirm the band) with this probability, and the first loop to end at or
  // after each listed simulated time.
  double pv_fail_rate{0.0};
  std::vector<double> pv_fail_at_s;
  // pv_ctrl queue overflow: a command arriving at the queue is lost as in an overflow
  // (counted in CNT_DROPPED, IRQ OVERFLOW, failure log) with this probability, and the
  // first command arriving at or after each listed time.
  double queue_drop_rate{0.0};
  std::vector<double> queue_drop_at_s;
  // TLM error response on a bus access: a transaction of the host (the firmware's HAL
  // accesses) is answered by the bus (bus::Router) with TLM_GENERIC_ERROR_RESPONSE, not
  // forwarded to its target, with this probability, and the first one at or after each
  // listed time. The firmware's HAL retries it (hal::RetryHal, up to retry_limit).
  double bus_error_rate{0.0};
  std::vector<double> bus_error_at_s;
  // Firmware recovery (drivers::MetaPvUpdatePath): re-push a failed or lost weight up to
  // retry_limit times (and hal::RetryHal: retry a bus access answered with an error up to
  // retry_limit times); then remap its column to a spare column (tile.spare_cols) if
  // remap and one is free, else mark the weight skipped (if skip).
  std::int64_t retry_limit{2};
  bool remap{true};
  bool skip{true};
};

void bind_params(cfg::Schema& s, FaultParams& p);

}  // namespace memplast::pv
