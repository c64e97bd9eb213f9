// Driver of the program-and-verify controller (`pv_ctrl` block of
// sw/include/memplast_regs.h). Firmware code: reaches the hardware only via the HAL.
//
// Exercised by tb/sim/tb_system_forward.cpp and the hardware-mode regression.
#pragma once

#include <cstdint>

#include "sw/hal/hal.hpp"

namespace memplast::drivers {

// One entry of pv_ctrl's failure log (FAIL_*): a command that did not program its weight.
struct PvFailure {
  std::uint32_t tile{0};
  std::uint32_t row{0};
  std::uint32_t col{0};
  std::uint32_t cause{0};  // MP_PV_CTRL_FAIL_CAUSE_CAUSE_PV_FAILED or _DROPPED
};

struct PvCounters {
  std::uint32_t programmed{0};
  std::uint32_t failed{0};
  std::uint32_t pulses{0};
};

class PvDriver {
 public:
  explicit PvDriver(hal::Hal& hal);
  [[nodiscard]] std::uint32_t queue_depth() const { return depth_; }
  // Push one command; if the queue is full, waits for room (interrupt line `irq_line`).
  // With `force`, every device of the weight is programmed (CMD_PUSH.FORCE), as after a
  // failure or a column remap. Returns the STATUS read before the push.
  std::uint32_t push(std::uint32_t tile, std::uint32_t row, std::uint32_t col, std::uint32_t level,
                     unsigned irq_line, bool force = false);
  // Block until the queue is empty and the controller idle; returns the STATUS read
  // then (STATUS.FAIL_PENDING: the failure log holds entries).
  std::uint32_t wait_idle(unsigned irq_line);
  // The failure log: its length, and its head entry read and removed.
  [[nodiscard]] std::uint32_t fail_count();
  PvFailure pop_failure();
  // Mark weight (tile, row, col) skipped (later commands for it are discarded) or not.
  void skip(std::uint32_t tile, std::uint32_t row, std::uint32_t col, bool mark);
  [[nodiscard]] PvCounters counters();
  void clear_counters();

 private:
  hal::Hal& hal_;
  std::uint64_t base_;
  std::uint32_t depth_{0};
};

}  // namespace memplast::drivers
