// Driver of the program-and-verify controller (`pv_ctrl` block of
// sw/include/memplast_regs.h). Firmware code: reaches the hardware only via the HAL.
//
// Exercised by tb/sim/tb_system_forward.cpp and the hardware-mode regression.
#pragma once

#include <cstdint>

#include "sw/hal/hal.hpp"

namespace memplast::drivers {

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
  void push(std::uint32_t tile, std::uint32_t row, std::uint32_t col, std::uint32_t level,
            unsigned irq_line);
  // Block until the queue is empty and the controller idle.
  void wait_idle(unsigned irq_line);
  [[nodiscard]] PvCounters counters();
  void clear_counters();

 private:
  hal::Hal& hal_;
  std::uint64_t base_;
  std::uint32_t depth_{0};
};

}  // namespace memplast::drivers
