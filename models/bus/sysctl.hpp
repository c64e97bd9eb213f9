// sysctl: identification, simulated time and interrupt aggregation (regs::sysctl).
// A register-only TLM target built on RegisterBank; it adds no latency of its own
// (the bus transfer time covers the access).
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
#include <tlm_utils/simple_target_socket.h>

#include "bus/reg_bank.hpp"

namespace memplast::bus {

class Sysctl : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Sysctl> socket;

  Sysctl(const sc_core::sc_module_name& name, std::uint32_t n_tiles,
         std::function<void(bool)> irq_out = {});

  void set_tile_irq(unsigned tile, bool level);
  void set_pv_irq(bool level);
  void set_meta_irq(bool level);
  [[nodiscard]] bool irq() const { return irq_level_; }
  [[nodiscard]] const RegisterBank& bank() const { return bank_; }

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& p);
  void set_source(std::uint32_t mask, bool level);
  void update_irq();

  RegisterBank bank_;
  std::function<void(bool)> irq_out_;
  sc_core::sc_time now_{sc_core::SC_ZERO_TIME};
  bool irq_level_{false};
};

}  // namespace memplast::bus
