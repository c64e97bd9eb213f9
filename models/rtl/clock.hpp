// One clock cycle of a Verilated model whose clock input is `clk`: low, evaluate, high,
// evaluate (the rising edge). The transactors (rtl_meta, rtl_pv) and the co-simulation
// tests clock their models with it; the edges take no simulated time of their own.
#pragma once

namespace memplast::rtl {

template <class V>
void clock_cycle(V& top) {
  top.clk = 0;
  top.eval();
  top.clk = 1;
  top.eval();
}

}  // namespace memplast::rtl
