// Configuration keys "faults.*": fault injection and the firmware's recovery policy.
#include "pv/fault_params.hpp"

namespace memplast::pv {

void bind_params(cfg::Schema& s, FaultParams& p) {
  s.add("faults.pv_fail_rate", &p.pv_fail_rate, 0.0, 1.0, "per P&V loop",
        "Fault injection: probability that a device's program-and-verify loop ends reporting "
        "failure (its verify does not confirm the band; the pulses were applied). Drawn by "
        "pv_ctrl from a stream seeded by sim.seed",
        "fault injection; 0 = off");
  s.add("faults.pv_fail_at_s", &p.pv_fail_at_s, 0.0, 1e12, 0, 4096, "s",
        "Fault injection: simulated times; the first P&V loop to end at or after each one "
        "reports failure",
        "fault injection; empty = none");
  s.add("faults.queue_drop_rate", &p.queue_drop_rate, 0.0, 1.0, "per command",
        "Fault injection: probability that a command arriving at pv_ctrl's queue is lost as "
        "in an overflow (CNT_DROPPED, IRQ_STATUS.OVERFLOW, failure log cause DROPPED)",
        "fault injection; 0 = off");
  s.add("faults.queue_drop_at_s", &p.queue_drop_at_s, 0.0, 1e12, 0, 4096, "s",
        "Fault injection: simulated times; the first command arriving at the queue at or after "
        "each one is lost as in an overflow",
        "fault injection; empty = none");
  s.add("faults.bus_error_rate", &p.bus_error_rate, 0.0, 1.0, "per host bus access",
        "Fault injection: probability that a bus transaction of the host (one register access "
        "or one burst of a block transfer) is answered by the bus with "
        "TLM_GENERIC_ERROR_RESPONSE and not forwarded to its target. Drawn by the bus from a "
        "stream seeded by sim.seed; the firmware's HAL retries it (faults.retry_limit)",
        "fault injection; 0 = off");
  s.add("faults.bus_error_at_s", &p.bus_error_at_s, 0.0, 1e12, 0, 4096, "s",
        "Fault injection: simulated times; the first host bus transaction at or after each one "
        "is answered with TLM_GENERIC_ERROR_RESPONSE",
        "fault injection; empty = none");
  s.add("faults.adc_sat_rate", &p.adc_sat_rate, 0.0, 1.0, "per tile MVM",
        "Fault injection: probability that in an MVM of a tile one of its ADCs (drawn "
        "uniformly) saturates: every conversion of its lines gives the code limit of the "
        "signal's sign. The tile counts it in ADC_SAT_COUNT and flags IRQ_STATUS.ADC_SAT; the "
        "firmware re-runs the MVM up to faults.retry_limit times, then once with halved inputs. "
        "Drawn per tile from a stream seeded by sim.seed",
        "fault injection; 0 = off");
  s.add("faults.adc_sat_at_s", &p.adc_sat_at_s, 0.0, 1e12, 0, 4096, "s",
        "Fault injection: simulated times; the first MVM of a tile (of faults.adc_sat_tile) "
        "starting at or after each one has a saturated ADC",
        "fault injection; empty = none");
  s.add("faults.adc_sat_tile", &p.adc_sat_tile, -1, 63, "tile",
        "Fault injection: the tile whose ADCs faults.adc_sat_rate and faults.adc_sat_at_s "
        "saturate; -1 = every tile (the times then apply to each tile)",
        "fault injection");
  s.add("faults.adc_sat_recover", &p.adc_sat_recover,
        "Firmware recovery: an MVM whose tile flags IRQ_STATUS.ADC_SAT (saturated conversions, "
        "natural or injected) is re-run up to faults.retry_limit times while it saturates, "
        "then once with its inputs halved (outputs doubled); false (the default, so that a run "
        "whose ADCs clip naturally keeps its results and the functional mode, which has no "
        "recovery, stays comparable): the saturation is only counted",
        "policy");
  s.add("faults.dma_error_rate", &p.dma_error_rate, 0.0, 1.0, "per DMA access",
        "Fault injection: probability that an access of the DMA engine (a burst read or write, "
        "a descriptor fetch) is answered with TLM_GENERIC_ERROR_RESPONSE and not forwarded; "
        "the chain stops with STATUS.ERROR. The firmware's DMA driver restarts the chain from "
        "the failed descriptor up to faults.retry_limit times, then moves that transfer by "
        "programmed I/O. Drawn from a stream seeded by sim.seed",
        "fault injection; 0 = off");
  s.add("faults.dma_error_at_s", &p.dma_error_at_s, 0.0, 1e12, 0, 4096, "s",
        "Fault injection: simulated times; the first DMA engine access at or after each one is "
        "answered with TLM_GENERIC_ERROR_RESPONSE",
        "fault injection; empty = none");
  s.add("faults.retry_limit", &p.retry_limit, 0, 1000, "retries",
        "Firmware recovery: a weight whose command failed or was lost is pushed again (forced) "
        "up to this many times before it counts as failed; a bus access answered with "
        "TLM_GENERIC_ERROR_RESPONSE is retried up to this many times before the run fails; a "
        "DMA chain stopped on an error is restarted up to this many times before the transfer "
        "moves by programmed I/O; an MVM with saturated ADC conversions is re-run up to this "
        "many times (then once with halved inputs)",
        "assumption: a transient failure rarely repeats twice");
  s.add("faults.remap", &p.remap,
        "Firmware recovery: a failed weight's column is remapped to a free spare column of its "
        "tile (tile.spare_cols) and the column reprogrammed; columns with the most failed "
        "weights first",
        "policy");
  s.add("faults.skip", &p.skip,
        "Firmware recovery: a failed weight that no spare column repairs is marked skipped in "
        "pv_ctrl (no further programming; its devices keep their state)",
        "policy");
}

}  // namespace memplast::pv
