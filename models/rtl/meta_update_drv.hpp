// The pin-level driver of the Verilated meta_update (models/rtl/meta_update.sv): its
// configuration load (tables and per-run constants), the per-STEP scalars, and one
// weight per clock through the datapath. Shared by the rtl.meta transactor (rtl_meta.cpp)
// and the co-simulation test (tb/cosim/test_meta_cosim.cpp), so that the test drives the
// RTL exactly as a training run does. Needs the Verilated model (memplast_vlt_meta_update).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "Vmeta_update.h"
#include "common/state_io.hpp"
#include "meta/meta_fixed.hpp"
#include "rtl/clock.hpp"
#include "verilated.h"

namespace memplast::rtl {

using MetaFixedEngine = meta::detail::FixedEngine;

// The engine's per-weight state in checkpoint order (EngineBase::state_io). The engine
// stores hidden weights of meta.hidden_bits <= 16 as int16 (`h16`, set by load_state and
// save_state from the engine's parameters); here they are always int32.
struct MetaState {
  std::vector<std::int32_t> h, acc, m;
  std::vector<std::uint32_t> v;
  std::vector<std::int8_t> lev;
  std::uint64_t count{0}, divisor{0}, t{0};
  bool h16{false};
  explicit MetaState(std::size_t n) : h(n), acc(n), m(n), v(n), lev(n) {}
  void io(StateIO& s) {
    s.section("meta_engine");
    if (h16) {
      std::vector<std::int16_t> hn(h.begin(), h.end());  // in range: the engine's width
      s.vec("h", hn);
      h.assign(hn.begin(), hn.end());
    } else {
      s.vec("h", h);
    }
    s.vec("acc", acc);
    s.vec("m", m);
    s.vec("v", v);
    s.vec("lev", lev);
    s.value("count", count);
    s.value("divisor", divisor);
    s.value("t", t);
  }
};

// Loads `st` into the engine through its checkpoint interface.
inline void load_state(MetaFixedEngine& e, MetaState& st) {
  st.h16 = meta::hidden_stored_16(e.params());
  auto w = StateIO::writer();
  st.io(w);
  auto r = StateIO::reader(w.buffer(), "rtl.meta state");
  e.state_io(r);
}

// The engine's state, read through its checkpoint interface.
inline MetaState save_state(MetaFixedEngine& e) {
  auto w = StateIO::writer();
  e.state_io(w);
  MetaState st(e.size());
  st.h16 = meta::hidden_stored_16(e.params());
  auto r = StateIO::reader(w.buffer(), "rtl.meta engine");
  st.io(r);
  return st;
}

// The Verilated datapath and the controller around it, clocked one weight per cycle.
class MetaUpdateDriver {
 public:
  MetaUpdateDriver() : top_(std::make_unique<Vmeta_update>(&ctx_, "meta_update")) {
    top_->clk = 0;
    top_->rst_n = 0;
    top_->eval();
    tick();
    top_->rst_n = 1;
  }
  // The controller's configuration load: the tables (pin-level writes) and the constants.
  void configure(const MetaFixedEngine::HwConsts& k) {
    for (std::size_t i = 0; i < k.lut.size(); ++i)
      write_table(0, static_cast<unsigned>(i), static_cast<std::uint64_t>(k.lut[i]));
    for (std::size_t i = 0; i < k.rsq.size(); ++i)
      write_table(1, static_cast<unsigned>(i), static_cast<std::uint64_t>(k.rsq[i]));
    for (std::size_t i = 0; i < k.thr.size(); ++i) {
      write_table(2, static_cast<unsigned>(i), static_cast<std::uint32_t>(k.thr[i]));
      write_table(3, static_cast<unsigned>(i),
                  (static_cast<std::uint64_t>(k.kthr[i].shift) << 32) |
                      static_cast<std::uint64_t>(k.kthr[i].q));
    }
    top_->cfg_adam = k.adam;
    top_->cfg_meta = k.meta_on;
    top_->cfg_opt = k.option == 'A' ? 0 : (k.option == 'B' ? 1 : 2);
    top_->cfg_nthr = static_cast<std::uint8_t>(k.thr.size());
    top_->cfg_c1 = static_cast<std::uint32_t>(k.c1);
    top_->cfg_c2 = static_cast<std::uint32_t>(k.c2);
    top_->cfg_mu = static_cast<std::uint32_t>(k.mu);
    top_->cfg_wd_q = static_cast<std::uint32_t>(k.wd.q);
    top_->cfg_wd_s = static_cast<std::uint8_t>(k.wd.shift);
    top_->cfg_kg_q = static_cast<std::uint32_t>(k.kglob.q);
    top_->cfg_kg_s = static_cast<std::uint8_t>(k.kglob.shift);
    top_->cfg_lut_seg = static_cast<std::uint8_t>(k.lut_seg);
    top_->cfg_lut_xmax = static_cast<std::uint32_t>(k.lut_xmax);
    top_->cfg_lut_frac = static_cast<std::uint8_t>(k.lut_frac);
  }
  // The per-STEP scalars.
  void set_step(const MetaFixedEngine::StepConst& c) {
    top_->st_rc = static_cast<std::uint64_t>(c.rc);
    top_->st_ka_q = static_cast<std::uint32_t>(c.ka.q);
    top_->st_adam_shift = static_cast<std::uint8_t>(c.adam_shift);
    top_->st_sgd_shift = static_cast<std::uint8_t>(c.sgd_shift);
    top_->st_eps_v = static_cast<std::uint64_t>(c.eps_v);
  }
  // One STEP over every weight of `in` (HB-bit hidden weights, MB-bit first moments):
  // the new h, m, v and levels into `out` (which may be `in`), the level-change flags
  // into `changed`; ready[i], if given, the cycle (counted from the step's first) after
  // which weight i's result is out. Throws std::logic_error when the datapath gives no
  // result in a weight's cycle.
  void run(const MetaState& in, MetaState& out, std::vector<std::uint8_t>& changed, int hb, int mb,
           std::vector<std::uint64_t>* ready = nullptr) {
    const auto hmask = static_cast<std::uint32_t>((std::uint64_t{1} << hb) - 1U);
    const auto mmask = static_cast<std::uint32_t>((std::uint64_t{1} << mb) - 1U);
    changed.assign(in.h.size(), 0);
    const std::uint64_t start = cycles_;
    for (std::size_t i = 0; i < in.h.size(); ++i) {
      top_->in_valid = 1;
      top_->in_h = static_cast<std::uint32_t>(in.h[i]) & hmask;
      top_->in_acc = static_cast<std::uint32_t>(in.acc[i]);
      top_->in_m = static_cast<std::uint32_t>(in.m[i]) & mmask;
      top_->in_v = in.v[i];
      top_->in_lev = static_cast<std::uint8_t>(in.lev[i]);
      tick();
      if (top_->out_valid == 0) {
        throw std::logic_error("rtl.meta: meta_update gave no result for weight " +
                               std::to_string(i));
      }
      if (ready != nullptr) ready->push_back(cycles_ - start);
      // Sign-extend the HB / MB-bit outputs.
      out.h[i] = static_cast<std::int32_t>(top_->out_h << (32 - hb)) >> (32 - hb);
      out.m[i] = static_cast<std::int32_t>(top_->out_m << (32 - mb)) >> (32 - mb);
      out.v[i] = top_->out_v;
      out.lev[i] = static_cast<std::int8_t>(top_->out_lev);
      changed[i] = top_->out_changed;
    }
    top_->in_valid = 0;
  }
  [[nodiscard]] std::uint64_t cycles() const { return cycles_; }

 private:
  void tick() {
    clock_cycle(*top_);
    ++cycles_;
  }
  void write_table(unsigned sel, unsigned addr, std::uint64_t data) {
    top_->tab_we = 1;
    top_->tab_sel = sel;
    top_->tab_addr = addr;
    top_->tab_wdata = data;
    tick();
    top_->tab_we = 0;
  }
  VerilatedContext ctx_;
  std::unique_ptr<Vmeta_update> top_;
  std::uint64_t cycles_{0};
};

}  // namespace memplast::rtl
