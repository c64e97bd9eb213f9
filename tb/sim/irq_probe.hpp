// A testbench probe on an interrupt line: binds a block's irq_out to a signal and calls
// on_change(level) at every change (at the simulated time of the change, one delta
// after the block drove it).
#pragma once

#include <functional>
#include <utility>

#include <systemc>

#include "sim/irq.hpp"

namespace tb {

// Let a line and its probe catch up with the level a block just drove: the signal takes
// it one delta after the write, the probe's method sees it in the next. No time passes.
inline void settle() {
  for (int i = 0; i < 3; ++i) sc_core::wait(sc_core::SC_ZERO_TIME);
}

struct IrqProbe : sc_core::sc_module {
  SC_HAS_PROCESS(IrqProbe);
  IrqProbe(const sc_core::sc_module_name& n, memplast::sim::IrqOut& out,
           std::function<void(bool)> cb)
      : sc_module(n), line("line"), on_change(std::move(cb)) {
    out.bind(line);
    in.bind(line);
    SC_METHOD(sample);
    sensitive << in;
    dont_initialize();
  }
  void sample() { on_change(in->read()); }

  memplast::sim::IrqLine line;
  memplast::sim::IrqIn in{"in"};
  std::function<void(bool)> on_change;
};

}  // namespace tb
