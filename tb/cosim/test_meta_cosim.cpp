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

#include "common/rng.hpp"
#include "meta/meta_cost.hpp"
#include "meta/meta_fixed.hpp"
#include "meta/meta_params.hpp"
#include "rtl/meta_update_drv.hpp"
#include "rtl/rtl_blocks.hpp"

// memplast::rtl brings in libsystemc.so, which refers to sc_main; this binary's main is
// gtest_main (no kernel is elaborated here), so sc_main is never called. Without it the
// sanitizer build fails to link. This file includes no SystemC header, so the C linkage
// SystemC declares sc_main with is given here (a C++-mangled sc_main does not resolve).
extern "C" int sc_main(int /*argc*/, char* /*argv*/[]) { return 1; }

namespace {

namespace mm = memplast::meta;
using Engine = mm::detail::FixedEngine;

// The state, its checkpoint load/save and the pin-level driver are the rtl.meta
// transactor's (models/rtl/meta_update_drv.hpp): the test drives the RTL as training does.
using State = memplast::rtl::MetaState;
using Rtl = memplast::rtl::MetaUpdateDriver;
void load(Engine& e, State& st) { memplast::rtl::load_state(e, st); }
State save(Engine& e) { return memplast::rtl::save_state(e); }

// The second moment's storage code of a value v >= 0 (docs/meta.md), for stimulus.
std::uint32_t v_code(std::uint64_t v, int vs) {
  int sh = 0;
  while ((v >> sh) >= (std::uint64_t{1} << vs)) ++sh;
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(sh) << vs) | (v >> sh));
}

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
    // The rtl.meta transactor that training runs use (models/rtl/rtl_meta.cpp).
    const auto rtl_engine = memplast::rtl::make_meta_engine(p, n);
    mm::MetaEngine& rtl = *rtl_engine;
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
