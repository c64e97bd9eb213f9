// Co-simulation (a): the Verilated metaplastic update datapath (models/rtl/meta_update.sv)
// against the C++ fixed-point engine (meta::detail::FixedEngine), bit for bit.
// Every step, both start from the same per-weight state (loaded into the engine through
// its checkpoint interface, state_io) and must produce the same hidden weight, first
// moment, second-moment code, level and level-change flag for every weight. Stimulus:
// seeded random states with corner cases (hidden weights at and next to each threshold
// and at both saturation limits, accumulators and moments at their limits, the empty
// and full second moment, batch divisors 0/1/n, Adam step counts from 1 to 1e5), over
// every option (A, B, C), m* = 0, Adam and SGD with and without momentum, 2..8 levels.
// docs/cosim.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "Vmeta_update.h"
#include "common/rng.hpp"
#include "common/state_io.hpp"
#include "meta/meta_cost.hpp"
#include "meta/meta_fixed.hpp"
#include "meta/meta_params.hpp"
#include "verilated.h"

namespace {

namespace mm = memplast::meta;
using Engine = mm::detail::FixedEngine;

// The engine's per-weight state in checkpoint order (EngineBase::state_io).
struct State {
  std::vector<std::int32_t> h, acc, m;
  std::vector<std::uint32_t> v;
  std::vector<std::int8_t> lev;
  std::uint64_t count{0}, divisor{0}, t{0};
  explicit State(std::size_t n) : h(n), acc(n), m(n), v(n), lev(n) {}
  void io(memplast::StateIO& s) {
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
  auto w = memplast::StateIO::writer();
  st.io(w);
  auto r = memplast::StateIO::reader(w.buffer(), "cosim stimulus");
  e.state_io(r);
}
State save(Engine& e) {
  auto w = memplast::StateIO::writer();
  e.state_io(w);
  State st(e.size());
  auto r = memplast::StateIO::reader(w.buffer(), "cosim engine");
  st.io(r);
  return st;
}

// The second moment's storage code of a value v >= 0 (docs/meta.md), for stimulus.
std::uint32_t v_code(std::uint64_t v, int vs) {
  int sh = 0;
  while ((v >> sh) >= (std::uint64_t{1} << vs)) ++sh;
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(sh) << vs) | (v >> sh));
}

// The Verilated datapath, clocked one weight per cycle.
class Rtl {
 public:
  Rtl() : top_(std::make_unique<Vmeta_update>(&ctx_, "meta_update")) {
    top_->clk = 0;
    top_->rst_n = 0;
    top_->eval();
    tick();
    top_->rst_n = 1;
  }
  void tick() {
    top_->clk = 0;
    top_->eval();
    top_->clk = 1;
    top_->eval();
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
  // The controller's configuration load.
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
  // One step over all weights; returns the new state (h, m, v, lev) and the change flags.
  // ready[i]: the cycle (from the step's first) after which weight i's result is out.
  void run(const State& in, State& out, std::vector<std::uint8_t>& changed, int hb, int mb,
           std::vector<std::uint64_t>* ready = nullptr) {
    const std::uint64_t start = cycles_;
    for (std::size_t i = 0; i < in.h.size(); ++i) {
      top_->in_valid = 1;
      top_->in_h = static_cast<std::uint32_t>(in.h[i]) & ((1U << hb) - 1U);
      top_->in_acc = static_cast<std::uint32_t>(in.acc[i]);
      top_->in_m = static_cast<std::uint32_t>(in.m[i]) &
                   static_cast<std::uint32_t>((std::uint64_t{1} << mb) - 1U);
      top_->in_v = in.v[i];
      top_->in_lev = static_cast<std::uint8_t>(in.lev[i]);
      tick();
      EXPECT_EQ(top_->out_valid, 1);
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
  VerilatedContext ctx_;
  std::unique_ptr<Vmeta_update> top_;
  std::uint64_t cycles_{0};
};

struct Scenario {
  std::string option{"B"};
  std::string optimizer{"adam"};
  double momentum{0};
  double m_star{3};
  std::int64_t levels{3};
  double lr{0.005};
  double weight_decay{1e-7};
};

// Random state with corner cases; levels consistent with h (as the engine keeps them).
void random_state(State& st, const Engine::HwConsts& k, memplast::Rng& rng, bool fresh) {
  const std::int64_t h_max = (1 << 15) - 1;
  const std::int64_t g_max = 0x7FFFFFFFLL;
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(rng.uniform(0.0, 1.0) * static_cast<double>(hi - lo + 1));
  };
  auto logmag = [&](double lo2, double hi2) {
    const double m = std::exp2(rng.uniform(lo2, hi2));
    return static_cast<std::int64_t>(rng.uniform(0.0, 1.0) < 0.5 ? -m : m);
  };
  for (std::size_t i = 0; i < st.h.size(); ++i) {
    const double u = rng.uniform(0.0, 1.0);
    if (fresh) {
      std::int64_t h = 0;
      if (u < 0.25) {
        h = pick(-h_max - 1, h_max);
      } else if (u < 0.5) {
        h = k.thr[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(k.thr.size()) - 1))] +
            pick(-3, 3);
      } else if (u < 0.6) {
        const std::int64_t c[] = {-h_max - 1, -h_max, 0, h_max - 1, h_max};
        h = c[pick(0, 4)];
      } else {
        h = pick(-12288, 12288);
      }
      st.h[i] = static_cast<std::int32_t>(std::clamp(h, -h_max - 1, h_max));
      const double um = rng.uniform(0.0, 1.0);
      st.m[i] = um < 0.05 ? static_cast<std::int32_t>(um < 0.025 ? g_max : -g_max - 1)
                          : static_cast<std::int32_t>(logmag(0, 24));
      const double uv = rng.uniform(0.0, 1.0);
      const std::uint64_t vv =
          uv < 0.1 ? 0
                   : (uv < 0.15 ? (std::uint64_t{1} << 62)
                                : static_cast<std::uint64_t>(std::exp2(rng.uniform(0.0, 61.0))));
      st.v[i] = v_code(vv, 21);
    }
    const double ua = rng.uniform(0.0, 1.0);
    if (ua < 0.05) {
      st.acc[i] = static_cast<std::int32_t>(ua < 0.025 ? g_max : -g_max - 1);
    } else if (ua < 0.1) {
      st.acc[i] = 0;
    } else if (ua < 0.2) {
      st.acc[i] = static_cast<std::int32_t>(pick(-g_max - 1, g_max));
    } else {
      st.acc[i] = static_cast<std::int32_t>(logmag(0, 24));
    }
    int l = 0;
    for (auto t : k.thr) l += st.h[i] >= t ? 1 : 0;
    st.lev[i] = static_cast<std::int8_t>(l);
  }
  const double uc = rng.uniform(0.0, 1.0);
  st.count = uc < 0.1 ? 0 : (uc < 0.4 ? 1 : static_cast<std::uint64_t>(pick(2, 300)));
  st.divisor = rng.uniform(0.0, 1.0) < 0.5 ? 0 : static_cast<std::uint64_t>(pick(1, 1000));
  if (fresh) {
    const double ut = rng.uniform(0.0, 1.0);
    st.t = ut < 0.3 ? 0 : static_cast<std::uint64_t>(std::exp2(rng.uniform(0.0, 17.0)));
  }
}

// Runs `steps` steps of `n` weights; returns the number of weight updates compared.
// Corner cases the comparison reached (counted on the results).
struct Reached {
  std::uint64_t changes{0}, h_sat{0}, m_sat{0}, v_zero{0};
};

std::uint64_t run_scenario(const Scenario& s, std::size_t n, int steps, std::uint64_t seed,
                           Reached& seen) {
  mm::MetaParams p;
  p.option = s.option;
  p.optimizer = s.optimizer;
  p.momentum = s.momentum;
  p.m_star = s.m_star;
  p.levels = s.levels;
  p.lr = s.lr;
  p.weight_decay = s.weight_decay;
  Engine eng(p, n);
  const Engine::HwConsts k = eng.hw_consts();
  Rtl rtl;
  rtl.configure(k);
  memplast::Rng rng(seed);
  State st(n);
  std::uint64_t compared = 0;
  const int hb = static_cast<int>(p.hidden_bits);
  const int mb = static_cast<int>(p.m_bits);
  for (int step = 0; step < steps; ++step) {
    random_state(st, k, rng, step == 0);
    load(eng, st);
    const std::uint64_t div = st.divisor > 0 ? st.divisor : st.count;
    rtl.set_step(eng.step_const(div, st.t + 1));
    State out(n);
    std::vector<std::uint8_t> changed(n);
    rtl.run(st, out, changed, hb, mb);
    std::vector<mm::LevelChange> changes;
    eng.step(changes);
    const State ref = save(eng);
    std::vector<std::uint8_t> ref_changed(n, 0);
    for (const auto& c : changes) ref_changed[c.index] = 1;
    seen.changes += changes.size();
    for (std::size_t i = 0; i < n; ++i) {
      seen.h_sat += (ref.h[i] == 32767 || ref.h[i] == -32768) ? 1 : 0;
      seen.m_sat += (ref.m[i] == 0x7FFFFFFF || ref.m[i] == -0x7FFFFFFF - 1) ? 1 : 0;
      seen.v_zero += st.v[i] == 0 ? 1 : 0;
    }
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool ok = out.h[i] == ref.h[i] && out.m[i] == ref.m[i] && out.v[i] == ref.v[i] &&
                      out.lev[i] == ref.lev[i] && changed[i] == ref_changed[i];
      if (!ok && ++bad <= 5) {
        ADD_FAILURE() << "option " << s.option << " " << s.optimizer << " mu " << s.momentum
                      << " m* " << s.m_star << " L " << s.levels << " step " << step << " weight "
                      << i << ": in h " << st.h[i] << " acc " << st.acc[i] << " m " << st.m[i]
                      << " v " << st.v[i] << " lev " << int{st.lev[i]} << " | rtl h " << out.h[i]
                      << " m " << out.m[i] << " v " << out.v[i] << " lev " << int{out.lev[i]}
                      << " chg " << int{changed[i]} << " | c++ h " << ref.h[i] << " m " << ref.m[i]
                      << " v " << ref.v[i] << " lev " << int{ref.lev[i]} << " chg "
                      << int{ref_changed[i]};
      }
    }
    EXPECT_EQ(bad, 0U);
    compared += n;
    st = ref;  // continue from the common state (new accumulators drawn next step)
  }
  return compared;
}

std::vector<Scenario> scenarios() {
  std::vector<Scenario> v;
  for (const char* opt : {"A", "B", "C"}) {
    for (int o = 0; o < 3; ++o) {
      for (double ms : {0.0, 3.0}) {
        Scenario s;
        s.option = opt;
        s.optimizer = o == 0 ? "adam" : "sgd";
        s.momentum = o == 2 ? 0.9 : 0.0;
        s.m_star = ms;
        v.push_back(s);
      }
    }
  }
  // Other level counts, a strong m*, a large learning rate and decay (saturation).
  v.push_back({"A", "adam", 0, 1.5, 2, 0.005, 1e-7});
  v.push_back({"C", "adam", 0, 8, 5, 0.005, 1e-7});
  v.push_back({"A", "sgd", 0.5, 3, 8, 0.1, 1e-3});
  v.push_back({"B", "adam", 0, 3, 8, 0.5, 1e-3});
  v.push_back({"C", "sgd", 0, 1, 4, 1.0, 0});
  v.push_back({"B", "sgd", 0.99, 3, 3, 0.05, 0.01});
  return v;
}

TEST(MetaCosim, RtlMatchesFixedEngineBitForBit) {
  const std::size_t n = 2048;
  const int steps = 3;
  std::uint64_t total = 0;
  Reached seen;
  std::uint64_t seed = 20261203;
  for (const Scenario& s : scenarios()) total += run_scenario(s, n, steps, seed++, seen);
  std::printf(
      "meta_update co-simulation: %llu weight updates over %zu scenarios compared; "
      "reached %llu level changes, %llu saturated hidden weights, %llu saturated "
      "first moments, %llu empty second moments%s\n",
      static_cast<unsigned long long>(total), scenarios().size(),
      static_cast<unsigned long long>(seen.changes), static_cast<unsigned long long>(seen.h_sat),
      static_cast<unsigned long long>(seen.m_sat), static_cast<unsigned long long>(seen.v_zero),
      ::testing::Test::HasFailure() ? "" : "; RTL == C++ bit for bit");
  EXPECT_GE(total, 100000U);
  // The stimulus does reach the corner cases.
  EXPECT_GT(seen.changes, 1000U);
  EXPECT_GT(seen.h_sat, 100U);
  EXPECT_GT(seen.m_sat, 100U);
  EXPECT_GT(seen.v_zero, 100U);
}

// The MetaEngine interface with its STEP arithmetic done by the RTL: the state lives in
// a FixedEngine (accumulate, new_task, checkpoint, accessors), each step() reads it out,
// streams every weight through meta_update and writes the RTL's results back. What a
// meta_unit with the RTL in place would compute (docs/cosim.md, "Not done").
class RtlEngine final : public mm::MetaEngine {
 public:
  RtlEngine(const mm::MetaParams& p, std::size_t n) : e_(p, n) { rtl_.configure(e_.hw_consts()); }
  std::size_t size() const override { return e_.size(); }
  void init_uniform(memplast::Rng& rng, double a) override { e_.init_uniform(rng, a); }
  void accumulate(const float* grad, std::size_t n) override { e_.accumulate(grad, n); }
  void step(std::vector<mm::LevelChange>& changes) override {
    State st = save(e_);
    const std::uint64_t div = st.divisor > 0 ? st.divisor : st.count;
    rtl_.set_step(e_.step_const(div, st.t + 1));
    State out = st;
    std::vector<std::uint8_t> changed(st.h.size());
    rtl_.run(st, out, changed, static_cast<int>(e_.params().hidden_bits),
             static_cast<int>(e_.params().m_bits));
    std::fill(out.acc.begin(), out.acc.end(), 0);
    out.count = 0;
    out.t = st.t + 1;
    load(e_, out);
    for (std::size_t i = 0; i < changed.size(); ++i) {
      if (changed[i] != 0) changes.push_back({static_cast<std::uint32_t>(i), out.lev[i]});
    }
  }
  void new_task() override { e_.new_task(); }
  void clear_accumulator() override { e_.clear_accumulator(); }
  void set_batch_divisor(std::uint32_t d) override { e_.set_batch_divisor(d); }
  const std::int8_t* levels() const override { return e_.levels(); }
  float level_value(int level) const override { return e_.level_value(level); }
  float hidden(std::size_t i) const override { return e_.hidden(i); }
  void set_hidden(std::size_t i, double w) override { e_.set_hidden(i, w); }
  mm::MemoryBits memory_bits() const override { return e_.memory_bits(); }
  std::uint64_t steps_in_task() const override { return e_.steps_in_task(); }
  const mm::MetaParams& params() const override { return e_.params(); }
  const mm::Quantizer& quantizer() const override { return e_.quantizer(); }
  void state_io(memplast::StateIO& io) override { e_.state_io(io); }

 private:
  Engine e_;
  Rtl rtl_;
};

// Training-like trajectories through the MetaEngine interface: 40 steps of 4096 weights
// from init_uniform, 1 to 4 accumulates of gradients of random sign and log-uniform
// magnitude per step, a batch divisor on some steps, a new task half way. The RTL engine's
// level-change lists and hidden weights equal FixedEngine's after every step.
TEST(MetaCosim, TrajectoriesThroughTheEngineInterface) {
  const std::size_t n = 4096;
  std::uint64_t updates = 0;
  std::uint64_t changes_total = 0;
  for (const char* opt : {"A", "B", "C"}) {
    mm::MetaParams p;
    p.option = opt;
    p.optimizer = opt[0] == 'A' ? "sgd" : "adam";
    p.momentum = opt[0] == 'A' ? 0.9 : 0.0;
    p.lr = opt[0] == 'A' ? 0.05 : 0.005;
    Engine ref(p, n);
    RtlEngine rtl(p, n);
    memplast::Rng init_a(11), init_b(11), g(12);
    ref.init_uniform(init_a, 0.6);
    rtl.init_uniform(init_b, 0.6);
    std::vector<float> grad(n);
    for (int step = 0; step < 40; ++step) {
      if (step == 20) {
        ref.new_task();
        rtl.new_task();
      }
      const std::uint32_t div = step % 5 == 4 ? 3U : 0U;
      ref.set_batch_divisor(div);
      rtl.set_batch_divisor(div);
      const int calls = 1 + static_cast<int>(g.below(4));
      for (int c = 0; c < calls; ++c) {
        for (auto& x : grad) {
          const double m = std::exp2(g.uniform(-16.0, -3.0));
          x = static_cast<float>(g.uniform() < 0.5 ? -m : m);
        }
        ref.accumulate(grad.data(), n);
        rtl.accumulate(grad.data(), n);
      }
      std::vector<mm::LevelChange> a, b;
      ref.step(a);
      rtl.step(b);
      ASSERT_EQ(a.size(), b.size()) << opt << " step " << step;
      for (std::size_t k = 0; k < a.size(); ++k) {
        ASSERT_EQ(a[k].index, b[k].index) << opt << " step " << step;
        ASSERT_EQ(a[k].level, b[k].level) << opt << " step " << step;
      }
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(ref.hidden(i), rtl.hidden(i)) << opt << " step " << step << " weight " << i;
      }
      updates += n;
      changes_total += a.size();
    }
  }
  std::printf(
      "meta_update as a MetaEngine: %llu updates in 3 trajectories of 40 steps, %llu "
      "level changes, identical to FixedEngine\n",
      static_cast<unsigned long long>(updates), static_cast<unsigned long long>(changes_total));
  EXPECT_GT(changes_total, 500U);
}

// (c) Cycle counts: a STEP over n weights streamed through the one-lane RTL against the
// TLM cost model (meta_cost: op_cycles, ready_cycle) with the keys that describe this RTL:
// meta.lanes = 1, meta.sram_ports = 2 (one weight per cycle), meta.pipeline_depth = 0
// (the result leaves in the cycle after its weight enters).
TEST(MetaCosim, CycleTable) {
  mm::MetaParams p;
  p.lanes = 1;
  p.sram_ports = 2;
  p.pipeline_depth = 0;
  std::printf(
      "| operation | n | TLM cycles (op_cycles) | RTL cycles | weights ready at the TLM's "
      "ready_cycle |\n|---|---|---|---|---|\n");
  for (std::size_t n : {1U, 16U, 1000U, 4096U}) {
    Engine eng(p, n);
    const Engine::HwConsts k = eng.hw_consts();
    Rtl rtl;
    rtl.configure(k);
    memplast::Rng rng(5);
    State st(n);
    random_state(st, k, rng, true);
    rtl.set_step(eng.step_const(1, 1));
    State out(n);
    std::vector<std::uint8_t> changed(n);
    std::vector<std::uint64_t> ready;
    rtl.run(st, out, changed, 16, 32, &ready);
    std::size_t same = 0;
    for (std::size_t i = 0; i < n; ++i) same += ready[i] == mm::ready_cycle(p, i) ? 1 : 0;
    const std::uint64_t tlm = mm::op_cycles(p, n);
    std::printf("| STEP | %zu | %llu | %llu | %zu of %zu |\n", n,
                static_cast<unsigned long long>(tlm), static_cast<unsigned long long>(ready.back()),
                same, n);
    EXPECT_EQ(ready.back(), tlm);
    EXPECT_EQ(same, n);
  }
}

}  // namespace
