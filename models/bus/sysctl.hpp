// sysctl: identification, simulated time and interrupt aggregation (regs::sysctl).
// A register-only bus::Target; it adds no latency of its own (the bus transfer time
// covers the access). SIM_TIME_LO/HI read the access's local time.
//
// Interrupts: the system top wires each block's interrupt output to set_tile_irq(i),
// set_pv_irq() and set_meta_irq(); IRQ_STATUS and TILE_IRQ_LO/HI show them, and the
// output `irq_out(level)` is driven with (IRQ_STATUS & IRQ_ENABLE) != 0 on every change
// (connect it to Host::set_irq on the host's line of choice).
#pragma once

#include <cstdint>
#include <functional>

#include <systemc>
#include <tlm>
#include "bus/target.hpp"

namespace memplast::bus {

class Sysctl : public Target {
 public:
  Sysctl(const sc_core::sc_module_name& name, std::uint32_t n_tiles,
         std::function<void(bool)> irq_out = {});

  void set_tile_irq(unsigned tile, bool level);
  void set_pv_irq(bool level);
  void set_meta_irq(bool level);
  [[nodiscard]] bool irq() const { return irq_level_; }

 private:
  void set_source(std::uint32_t mask, bool level);
  void update_irq();

  std::function<void(bool)> irq_out_;
  bool irq_level_{false};
};

}  // namespace memplast::bus
