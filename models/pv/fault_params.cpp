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
  s.add("faults.retry_limit", &p.retry_limit, 0, 1000, "retries",
        "Firmware recovery: a weight whose command failed or was lost is pushed again (forced) "
        "up to this many times before it counts as failed; a bus access answered with "
        "TLM_GENERIC_ERROR_RESPONSE is retried up to this many times before the run fails",
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
