// rtl.meta: meta_unit's STEP datapath on the Verilated meta_update (docs/cosim.md).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "Vmeta_update.h"
#include "common/schema.hpp"
#include "common/state_io.hpp"
#include "meta/meta_fixed.hpp"
#include "rtl/rtl_blocks.hpp"
#include "verilated.h"

namespace memplast::rtl {

namespace {

using Engine = meta::detail::FixedEngine;

// The engine's per-weight state in checkpoint order (EngineBase::state_io).
struct State {
  std::vector<std::int32_t> h, acc, m;
  std::vector<std::uint32_t> v;
  std::vector<std::int8_t> lev;
  std::uint64_t count{0}, divisor{0}, t{0};
  explicit State(std::size_t n) : h(n), acc(n), m(n), v(n), lev(n) {}
  void io(StateIO& s) {
    s.section("meta_engine");
    s.vec("h", h);
    s.vec("acc", acc);
    s.vec("m", m);
    s.vec("v", v);
    s.vec("lev", lev);
    s.value("count", count);
    s.value("divisor", divisor);
    s.value("t", t);
  }
};

void load(Engine& e, State& st) {
  auto w = StateIO::writer();
  st.io(w);
  auto r = StateIO::reader(w.buffer(), "rtl.meta state");
  e.state_io(r);
}

State save(Engine& e) {
  auto w = StateIO::writer();
  e.state_io(w);
  State st(e.size());
  auto r = StateIO::reader(w.buffer(), "rtl.meta engine");
  st.io(r);
  return st;
}

// The Verilated datapath and the controller around it: the table load and the per-step
// scalars (pin-level), then one weight per clock.
class Datapath {
 public:
  Datapath() : top_(std::make_unique<Vmeta_update>(&ctx_, "meta_update")) {
    top_->clk = 0;
    top_->rst_n = 0;
    top_->eval();
    tick();
    top_->rst_n = 1;
  }
  void configure(const Engine::HwConsts& k) {
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
  void set_step(const Engine::StepConst& c) {
    top_->st_rc = static_cast<std::uint64_t>(c.rc);
    top_->st_ka_q = static_cast<std::uint32_t>(c.ka.q);
    top_->st_adam_shift = static_cast<std::uint8_t>(c.adam_shift);
    top_->st_sgd_shift = static_cast<std::uint8_t>(c.sgd_shift);
    top_->st_eps_v = static_cast<std::uint64_t>(c.eps_v);
  }
  // One STEP over every weight: `st` in, the new h, m, v and levels written back into it.
  void run(State& st, std::vector<meta::LevelChange>& changes, int hb, int mb) {
    const auto hmask = static_cast<std::uint32_t>((std::uint64_t{1} << hb) - 1U);
    const auto mmask = static_cast<std::uint32_t>((std::uint64_t{1} << mb) - 1U);
    for (std::size_t i = 0; i < st.h.size(); ++i) {
      top_->in_valid = 1;
      top_->in_h = static_cast<std::uint32_t>(st.h[i]) & hmask;
      top_->in_acc = static_cast<std::uint32_t>(st.acc[i]);
      top_->in_m = static_cast<std::uint32_t>(st.m[i]) & mmask;
      top_->in_v = st.v[i];
      top_->in_lev = static_cast<std::uint8_t>(st.lev[i]);
      tick();
      if (top_->out_valid == 0) {
        throw std::logic_error(
            fmt::format("rtl.meta: meta_update gave no result for weight {}", i));
      }
      // Sign-extend the HB / MB-bit outputs.
      st.h[i] = static_cast<std::int32_t>(top_->out_h << (32 - hb)) >> (32 - hb);
      st.m[i] = static_cast<std::int32_t>(top_->out_m << (32 - mb)) >> (32 - mb);
      st.v[i] = top_->out_v;
      st.lev[i] = static_cast<std::int8_t>(top_->out_lev);
      if (top_->out_changed != 0) changes.push_back({static_cast<std::uint32_t>(i), st.lev[i]});
    }
    top_->in_valid = 0;
  }

 private:
  void tick() {
    top_->clk = 0;
    top_->eval();
    top_->clk = 1;
    top_->eval();
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
};

class RtlMetaEngine final : public meta::MetaEngine {
 public:
  RtlMetaEngine(const meta::MetaParams& p, std::size_t n) : e_(p, n) {
    rtl_.configure(e_.hw_consts());
  }
  std::size_t size() const override { return e_.size(); }
  void init_uniform(Rng& rng, double a) override { e_.init_uniform(rng, a); }
  void accumulate(const float* grad, std::size_t n) override { e_.accumulate(grad, n); }
  void step(std::vector<meta::LevelChange>& changes) override {
    State st = save(e_);
    const std::uint64_t div = st.divisor > 0 ? st.divisor : st.count;
    rtl_.set_step(e_.step_const(div, st.t + 1));
    rtl_.run(st, changes, static_cast<int>(e_.params().hidden_bits),
             static_cast<int>(e_.params().m_bits));
    std::fill(st.acc.begin(), st.acc.end(), 0);  // STEP clears the accumulator
    st.count = 0;
    st.t += 1;
    load(e_, st);
  }
  void new_task() override { e_.new_task(); }
  void clear_accumulator() override { e_.clear_accumulator(); }
  void set_batch_divisor(std::uint32_t d) override { e_.set_batch_divisor(d); }
  const std::int8_t* levels() const override { return e_.levels(); }
  float level_value(int level) const override { return e_.level_value(level); }
  float hidden(std::size_t i) const override { return e_.hidden(i); }
  void set_hidden(std::size_t i, double w) override { e_.set_hidden(i, w); }
  meta::MemoryBits memory_bits() const override { return e_.memory_bits(); }
  std::uint64_t steps_in_task() const override { return e_.steps_in_task(); }
  const meta::MetaParams& params() const override { return e_.params(); }
  const meta::Quantizer& quantizer() const override { return e_.quantizer(); }
  void state_io(StateIO& io) override { e_.state_io(io); }

 private:
  Engine e_;
  Datapath rtl_;
};

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) {
    throw cfg::ConfigError(fmt::format(
        "key 'rtl.meta': the Verilated meta_update is built for {}; key '{}' differs", what, key));
  }
}

}  // namespace

std::unique_ptr<meta::MetaEngine> make_meta_engine(const meta::MetaParams& p, std::size_t n) {
  // The RTL's parameters (meta_update.sv) are the meta.* defaults.
  const meta::MetaParams d;
  require(p.arithmetic == "fixed", "meta.arithmetic", "the fixed-point datapath (fixed)");
  require(p.hidden_bits == d.hidden_bits, "meta.hidden_bits", "HB = 16");
  require(p.grad_bits == d.grad_bits, "meta.grad_bits", "GB = 32");
  require(p.m_bits == d.m_bits, "meta.m_bits", "MB = 32");
  require(p.v_sig_bits == d.v_sig_bits, "meta.v_sig_bits", "VS = 21");
  require(p.rsqrt_lut_bits == d.rsqrt_lut_bits, "meta.rsqrt_lut_bits", "RK = 8");
  require(p.lut_entries == d.lut_entries, "meta.lut_entries", "LUT_N = 128");
  require(p.lut_frac_bits == d.lut_frac_bits, "meta.lut_frac_bits",
          "LUT_W = 17 (16 fraction bits)");
  require(p.levels <= 8, "meta.levels", "at most 8 levels (MAXT = 7 thresholds)");
  return std::make_unique<RtlMetaEngine>(p, n);
}

}  // namespace memplast::rtl
