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
  // ADC saturation: in an MVM of a tile, one of its ADCs (drawn uniformly) saturates:
  // every conversion of its lines gives the code limit of the signal's sign (a
  // reference or comparator glitch), with this probability per MVM operation, and in the
  // first MVM starting at or after each listed time; only tile adc_sat_tile (-1: every
  // tile; the times then apply to each tile). The tile counts the saturated conversions
  // (ADC_SAT_COUNT, IRQ_STATUS.ADC_SAT), as it counts natural saturation; the firmware
  // re-runs the MVM (up to retry_limit), then once with its inputs halved.
  double adc_sat_rate{0.0};
  std::vector<double> adc_sat_at_s;
  std::int64_t adc_sat_tile{-1};
  // Firmware recovery (drivers::HalAccelerator): react to IRQ_STATUS.ADC_SAT by re-running
  // the MVM (then with halved inputs); off: count only.
  bool adc_sat_recover{false};
  // DMA error: an access of the DMA engine (a burst read or write, a descriptor fetch) is
  // answered with TLM_GENERIC_ERROR_RESPONSE and not forwarded, with this probability,
  // and the first one at or after each listed time: the chain stops with STATUS.ERROR and
  // IRQ_STATUS.ERROR. The firmware's DMA driver restarts the chain from the failed
  // descriptor (up to retry_limit), then moves that transfer by programmed I/O.
  double dma_error_rate{0.0};
  std::vector<double> dma_error_at_s;
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
