// Interrupt lines as SystemC signals (issue 10 item 7): a block that raises an
// interrupt has an IrqOut port, the block that takes it (sysctl, the host) an IrqIn
// port; the system top binds both to one sc_signal<bool> and records the binding in its
// wiring list. Both ports may stay unbound (SC_ZERO_OR_MORE_BOUND), so a block can be
// tested on its own; an unbound output is simply not driven.
#pragma once

#include <stdexcept>
#include <string>

#include <systemc>

#include "common/state_io.hpp"

namespace memplast::sim {

using IrqOut =
    sc_core::sc_port<sc_core::sc_signal_inout_if<bool>, 1, sc_core::SC_ZERO_OR_MORE_BOUND>;
using IrqIn = sc_core::sc_port<sc_core::sc_signal_in_if<bool>, 1, sc_core::SC_ZERO_OR_MORE_BOUND>;
// The line between them. A block's level is (IRQ_STATUS & IRQ_ENABLE) != 0 of its
// registers, written by whichever process changed them (the block's own process, or the
// host's thread in b_transport when the firmware clears a cause), hence several writers;
// the last write of a delta carries the registers' final state.
using IrqLine = sc_core::sc_signal<bool, sc_core::SC_UNCHECKED_WRITERS>;

// Drive `port` to `level` if it is bound (the signal takes the value one delta later).
inline void drive(IrqOut& port, bool level) {
  if (port.size() > 0) port->write(level);
}
// The level on `port`, false if unbound.
inline bool level(const IrqIn& port) { return port.size() > 0 && port->read(); }

// A block's interrupt output: its level, (IRQ_STATUS & IRQ_ENABLE) != 0 of the block's
// registers, driven onto the port when it changes.
class IrqLevel {
 public:
  [[nodiscard]] bool get() const { return level_; }
  // Sets the level; drives `port` and returns true if it changed.
  bool update(IrqOut& port, bool level) {
    if (level == level_) return false;
    level_ = level;
    drive(port, level);
    return true;
  }
  // Checkpoint field "irq_level": saved, and on load checked against the level that the
  // restored registers gave (an error naming `block` if they differ).
  void state_io(StateIO& io, const std::string& block) const {
    bool saved = level_;
    io.value("irq_level", saved);
    if (saved != level_)
      throw std::runtime_error(io.origin() + ": " + block + " interrupt level differs");
  }

 private:
  bool level_{false};
};

}  // namespace memplast::sim
