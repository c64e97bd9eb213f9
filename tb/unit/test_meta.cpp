// Unit tests of the metaplasticity core (models/meta/meta_core.*): the meta-function
// table, the attenuation of Options A/B/C, the quantizer and level-change detection,
// saturation, memory accounting, and the fixed-point engine against the float reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/isa.hpp"
#include "common/schema.hpp"
#include "meta/meta_core.hpp"
#include "meta_fixed_ref.hpp"
#include "params_util.hpp"

namespace mm = memplast::meta;
using memplast::Rng;

namespace {

mm::MetaParams defaults() { return memplast::test::validated_defaults<mm::MetaParams>(); }

// Plain SGD without weight decay: the unattenuated step is exactly -lr * g, so the
// measured step over -lr*g is the attenuation M.
mm::MetaParams sgd_params(const std::string& option, double m_star, std::int64_t levels = 3) {
  auto p = defaults();
  p.optimizer = "sgd";
  p.momentum = 0.0;
  p.weight_decay = 0.0;
  p.lr = 1.0;
  p.option = option;
  p.m_star = m_star;
  p.levels = levels;
  return p;
}

// One SGD step of weight 0 from hidden value w0 under gradient g; returns the step.
double one_step(mm::MetaEngine& e, double w0, float g) {
  e.set_hidden(0, w0);
  const double before = e.hidden(0);
  std::vector<float> grad(e.size(), 0.0F);
  grad[0] = g;
  e.accumulate(grad.data(), grad.size());
  std::vector<mm::LevelChange> ch;
  e.step(ch);
  return static_cast<double>(e.hidden(0)) - before;
}

// One weight at 0 under plain SGD with lr 0.1, no metaplasticity: the fixed engine
// (which = 0) or the float one (which = 1).
std::unique_ptr<mm::MetaEngine> sgd_unit_engine(int which) {
  auto p = sgd_params("B", 0.0);
  p.lr = 0.1;
  auto e = which == 0 ? mm::make_fixed(p, 1) : mm::make_float(p, 1);
  e->set_hidden(0, 0.0);
  return e;
}

// Steps two engines run side by side, each into its change list (cleared first).
void step_both(mm::MetaEngine& a, std::vector<mm::LevelChange>& ca, mm::MetaEngine& b,
               std::vector<mm::LevelChange>& cb) {
  ca.clear();
  cb.clear();
  a.step(ca);
  b.step(cb);
}

double lsb(const mm::MetaParams& p) {
  return std::ldexp(1.0, -static_cast<int>(p.hidden_frac_bits));
}

}  // namespace

TEST(MetaParams, DefaultsAreTheBalancedSetting) {
  const auto p = defaults();
  EXPECT_EQ(p.levels, 3);
  EXPECT_EQ(p.option, "B");
  EXPECT_DOUBLE_EQ(p.m_star, 3.0);
  EXPECT_EQ(p.arithmetic, "fixed");
  EXPECT_EQ(p.hidden_bits, 16);
  EXPECT_EQ(p.optimizer, "adam");
  EXPECT_DOUBLE_EQ(p.lr, 0.005);
  const auto q = mm::Quantizer::from(p);
  ASSERT_EQ(q.values.size(), 3U);
  EXPECT_DOUBLE_EQ(q.values[0], -1.0);
  EXPECT_DOUBLE_EQ(q.values[1], 0.0);
  EXPECT_DOUBLE_EQ(q.thresholds[0], -0.5);
  EXPECT_DOUBLE_EQ(q.thresholds[1], 0.5);
  EXPECT_DOUBLE_EQ(q.mean_interval, 1.0);
}

TEST(MetaParams, BadValuesNameTheKey) {
  auto p = defaults();
  memplast::cfg::Schema s;
  mm::bind_params(s, p);
  s.reset_defaults();
  s.apply_override("meta.level_values=[0.0, 1.0]");  // 2 values for 3 levels
  memplast::test::expect_error_names(s, "meta.level_values");
  s.reset_defaults();
  s.apply_override("meta.lut_entries=100");  // 8/100 is not a power of two
  EXPECT_THROW(s.validate(), memplast::cfg::ConfigError);
  s.reset_defaults();
  s.apply_override("meta.hidden_frac_bits=15");  // range +-0.5 does not cover +-1
  EXPECT_THROW(s.validate(), memplast::cfg::ConfigError);
  s.reset_defaults();
  EXPECT_THROW(s.apply_override("meta.option=\"D\""), memplast::cfg::ConfigError);
}

TEST(MetaLut, ErrorWithinItsBoundEverywhere) {
  for (std::int64_t entries : {32, 128, 512}) {
    auto p = defaults();
    p.lut_entries = entries;
    const mm::MetaLut lut(p);
    double worst = 0;
    // 2e6 points over [0, 12] (covers beyond the table's range, where f = 0).
    for (int k = 0; k <= 2000000; ++k) {
      const double x = 12.0 * k / 2e6;
      worst = std::max(worst, std::fabs(lut.eval(x) - mm::meta_f(x)));
    }
    EXPECT_LE(worst, lut.error_bound()) << entries;
    // The bound is tight to within a factor of 4 (it is not vacuous).
    EXPECT_GE(worst, lut.error_bound() / 4.0) << entries;
  }
  const mm::MetaLut def(defaults());
  EXPECT_LT(def.error_bound(), 1.1e-3);
  EXPECT_EQ(def.eval_fx(0), 1U << 16U);  // f(0) = 1 exactly: no attenuation at a threshold
}

TEST(MetaLut, FloatReferenceFunctionIsAccurate) {
  double worst = 0;
  for (int k = 0; k <= 400000; ++k) {
    const float x = 40.0F * static_cast<float>(k) / 400000.0F;
    worst = std::max(worst, std::fabs(static_cast<double>(mm::meta_f_float(x)) -
                                      mm::meta_f(static_cast<double>(x))));
  }
  EXPECT_LT(worst, 1e-6);
  EXPECT_EQ(mm::meta_f_float(0.0F), 1.0F);
}

TEST(MetaAttenuation, OptionAAtLevelCentre) {
  // Ternary: at the centre 0 a step of either sign heads to a threshold 0.5 = I/2 away,
  // so M = f(m*/2): 0.420 for m* = 2, 0.071 for m* = 4 [paper-notes.md].
  const double g = 0.25;  // step of 0.25 = 2048 LSB before attenuation
  for (auto [m_star, expect] : {std::pair{2.0, 0.419974}, std::pair{4.0, 0.070651}}) {
    auto p = sgd_params("A", m_star);
    auto fx = mm::make_fixed(p, 1);
    auto fl = mm::make_float(p, 1);
    const double tol = mm::MetaLut(p).error_bound() + 1.0 * lsb(p) / g;  // + rounding of the step
    for (float sg : {1.0F, -1.0F}) {
      const double mfx =
          one_step(*fx, 0.0, sg * static_cast<float>(g)) / (-static_cast<double>(sg) * g);
      const double mfl =
          one_step(*fl, 0.0, sg * static_cast<float>(g)) / (-static_cast<double>(sg) * g);
      EXPECT_NEAR(mfx, expect, tol) << m_star;
      EXPECT_NEAR(mfl, expect, 1e-5) << m_star;
    }
    // Interior level of a 5-level quantizer (I = 0.5): same M at its centre 0.5.
    auto p5 = sgd_params("A", m_star, 5);
    auto fx5 = mm::make_fixed(p5, 1);
    const double m5 = one_step(*fx5, 0.5, -static_cast<float>(g)) / g;
    EXPECT_NEAR(m5, expect, mm::MetaLut(p5).error_bound() + lsb(p5) / g);
  }
}

TEST(MetaAttenuation, OptionBAndCKnownPoints) {
  const double g = 0.25;
  {
    auto p = sgd_params("B", 3.0);
    auto fx = mm::make_fixed(p, 1);
    const double tol = mm::MetaLut(p).error_bound() + lsb(p) / g;
    // W = 0.5 shrinking (positive gradient -> negative step): M = f(1.5).
    EXPECT_NEAR(one_step(*fx, 0.5, static_cast<float>(g)) / -g, mm::meta_f(1.5), tol);
    // W = -1 shrinking: M = f(3).
    EXPECT_NEAR(one_step(*fx, -1.0, -static_cast<float>(g)) / g, mm::meta_f(3.0), tol);
  }
  {
    auto p = sgd_params("C", 2.0);
    auto fx = mm::make_fixed(p, 1);
    const double tol = mm::MetaLut(p).error_bound() + lsb(p) / g;
    // W = 0.25: nearest threshold 0.5 at 0.25; a step up is attenuated by f(2*0.25).
    EXPECT_NEAR(one_step(*fx, 0.25, -static_cast<float>(g)) / g, mm::meta_f(0.5), tol);
    // W = 0.75: nearest threshold 0.5, a step down: f(0.5).
    EXPECT_NEAR(one_step(*fx, 0.75, static_cast<float>(g)) / -g, mm::meta_f(0.5), tol);
    // W = 2 (beyond the outer level): inward attenuated by f(2*1.5).
    EXPECT_NEAR(one_step(*fx, 2.0, static_cast<float>(g)) / -g, mm::meta_f(3.0), tol);
  }
}

TEST(MetaAttenuation, NoAttenuationWhenMStarIsZero) {
  Rng rng(7, "test.meta.mzero");
  for (const char* opt : {"A", "B", "C"}) {
    auto p = sgd_params(opt, 0.0);
    p.lr = 0.01;
    for (int which = 0; which < 2; ++which) {
      auto e = which == 0 ? mm::make_fixed(p, 1) : mm::make_float(p, 1);
      for (int k = 0; k < 2000; ++k) {
        const double w = rng.uniform(-3.0, 3.0);
        const auto g = static_cast<float>(rng.uniform(-5.0, 5.0));
        const double expect = -p.lr * static_cast<double>(g);
        // Fixed: the grid rounding of w cancels (set then read back); the step is
        // rounded once to the LSB, and g to 2^-28 (negligible).
        const double tol = which == 0 ? 0.5 * lsb(p) + 1e-7 : 1e-6;
        EXPECT_NEAR(one_step(*e, w, g), expect, tol) << opt << " w=" << w << " g=" << g;
      }
    }
  }
}

TEST(MetaAttenuation, StepsAwayFromAThresholdAreNeverAttenuated) {
  // B: steps that grow |W|; C: steps away from the nearest threshold; A: outward steps
  // beyond the outer thresholds (no threshold ahead). All must equal -lr*g exactly
  // (fixed point: up to the single rounding of the step).
  Rng rng(7, "test.meta.away");
  for (const char* opt : {"A", "B", "C"}) {
    auto p = sgd_params(opt, 4.0, 4);  // levels -1, -1/3, 1/3, 1; thresholds -2/3, 0, 2/3
    p.lr = 0.01;
    const auto q = mm::Quantizer::from(p);
    auto e = mm::make_fixed(p, 1);
    auto f = mm::make_float(p, 1);
    int checked = 0;
    for (int k = 0; k < 20000; ++k) {
      const double w = rng.uniform(-3.0, 3.0);
      const auto g = static_cast<float>(rng.uniform(-5.0, 5.0));
      const double step = -p.lr * static_cast<double>(g);
      bool away = false;
      if (opt[0] == 'B') {
        away = (w > 0 && step > 0) || (w < 0 && step < 0);
      } else if (opt[0] == 'A') {
        away = (w >= q.thresholds.back() && step > 0) || (w < q.thresholds.front() && step < 0);
      } else {
        double best = 1e9;
        double tn = 0;
        for (double t : q.thresholds) {
          if (std::fabs(w - t) < best) {
            best = std::fabs(w - t);
            tn = t;
          }
        }
        away = (step > 0 && w > tn) || (step < 0 && w < tn);
      }
      // Skip points within 1e-3 of a threshold or of a midpoint between thresholds, where
      // the grid rounding of w could change which threshold is nearest.
      bool near = false;
      for (std::size_t t = 0; t < q.thresholds.size(); ++t) {
        near = near || std::fabs(w - q.thresholds[t]) < 1e-3;
        if (t + 1 < q.thresholds.size()) {
          near = near || std::fabs(w - 0.5 * (q.thresholds[t] + q.thresholds[t + 1])) < 1e-3;
        }
      }
      if (!away || near) continue;
      ++checked;
      EXPECT_NEAR(one_step(*e, w, g), step, 0.5 * lsb(p) + 1e-7) << opt << " w=" << w;
      EXPECT_NEAR(one_step(*f, w, g), step, 1e-6) << opt << " w=" << w;
    }
    EXPECT_GT(checked, 3000) << opt;
  }
}

TEST(MetaAttenuation, ConsolidatedWeightKeepsItsLevel) {
  // Weight 0 just above the threshold 0.5 (unconsolidated), weight 1 at 1.5 (consolidated,
  // Option B m* = 3: M = f(4.5) = 5e-4). A constant gradient pushing both down for 300 Adam
  // steps (about 1.5 of travel unattenuated) flips weight 0 and leaves weight 1 at its level.
  // With m* = 0 weight 1 flips too (the test can fail).
  for (int which = 0; which < 2; ++which) {
    for (double m_star : {3.0, 0.0}) {
      auto p = defaults();
      p.m_star = m_star;
      auto e = which == 0 ? mm::make_fixed(p, 2) : mm::make_float(p, 2);
      e->set_hidden(0, 0.55);
      e->set_hidden(1, 1.5);
      ASSERT_EQ(e->levels()[0], 2);
      ASSERT_EQ(e->levels()[1], 2);
      const std::vector<float> grad{1.0F, 1.0F};
      std::vector<mm::LevelChange> ch;
      int flips0 = 0;
      int flips1 = 0;
      for (int s = 0; s < 300; ++s) {
        e->accumulate(grad.data(), 2);
        ch.clear();
        e->step(ch);
        for (auto c : ch) (c.index == 0 ? flips0 : flips1)++;
      }
      EXPECT_GE(flips0, 1) << which << " m*=" << m_star;
      EXPECT_LT(e->levels()[0], 2);
      if (m_star > 0) {
        EXPECT_EQ(flips1, 0) << which;
        EXPECT_EQ(e->levels()[1], 2);
        EXPECT_GT(e->hidden(1), 1.49F);
      } else {
        EXPECT_GE(flips1, 1) << which;
      }
    }
  }
}

TEST(MetaQuantizer, ChangesAreExactlyTheLevelChanges) {
  Rng rng(11, "test.meta.changes");
  for (const char* opt : {"A", "B", "C"}) {
    for (std::int64_t L : {2, 3, 4, 16}) {
      for (int which = 0; which < 2; ++which) {
        auto p = defaults();
        p.option = opt;
        p.levels = L;
        p.lr = 0.05;  // many level changes per step
        const std::size_t n = 5000;
        auto e = which == 0 ? mm::make_fixed(p, n) : mm::make_float(p, n);
        e->init_uniform(rng, 1.2);
        std::vector<float> g(n);
        std::vector<mm::LevelChange> ch;
        std::size_t total = 0;
        for (int s = 0; s < 10; ++s) {
          std::vector<std::int8_t> before(e->levels(), e->levels() + n);
          for (auto& x : g) x = static_cast<float>(rng.normal(0.0, 0.01));
          e->accumulate(g.data(), n);
          ch.clear();
          e->step(ch);
          std::vector<std::int8_t> expect_lev(n);
          std::size_t k = 0;
          for (std::size_t i = 0; i < n; ++i) {
            // The level is the quantizer of the new hidden weight.
            const int l = e->quantizer().level_of(static_cast<double>(e->hidden(i)));
            ASSERT_EQ(e->levels()[i], l) << i;
            if (l != before[i]) {
              ASSERT_LT(k, ch.size());
              EXPECT_EQ(ch[k].index, i);
              EXPECT_EQ(ch[k].level, l);
              ++k;
            }
          }
          EXPECT_EQ(k, ch.size());
          total += ch.size();
        }
        EXPECT_GT(total, 100U) << opt << L;
      }
    }
  }
}

TEST(MetaFixed, SaturatesNeverWraps) {
  auto p = sgd_params("B", 0.0);
  p.lr = 1.0;
  auto e = mm::make_fixed(p, 2);
  e->set_hidden(0, 3.9);
  e->set_hidden(1, -3.9);
  const std::vector<float> g{-7.0F, 7.0F};
  std::vector<mm::LevelChange> ch;
  for (int s = 0; s < 3; ++s) {
    e->accumulate(g.data(), 2);
    e->step(ch);
  }
  const double top = 4.0 - lsb(p);
  EXPECT_DOUBLE_EQ(e->hidden(0), top);
  EXPECT_DOUBLE_EQ(e->hidden(1), -4.0);
  EXPECT_EQ(e->levels()[0], 2);
  EXPECT_EQ(e->levels()[1], 0);
  // Gradients beyond the gradient format saturate too (no wrap to the other sign).
  e->set_hidden(0, 0.0);
  const std::vector<float> big{-1e6F, 0.0F};
  e->accumulate(big.data(), 2);
  e->step(ch);
  EXPECT_DOUBLE_EQ(e->hidden(0), top);
}

TEST(MetaEngine, AccumulateUsesTheMeanOfTheCalls) {
  for (int which = 0; which < 2; ++which) {
    auto e = sgd_unit_engine(which);
    std::vector<mm::LevelChange> ch;
    for (float g : {1.0F, 2.0F, 6.0F}) e->accumulate(&g, 1);  // mean 3
    e->step(ch);
    EXPECT_NEAR(e->hidden(0), -0.3, 1e-3);
    e->step(ch);  // nothing accumulated: zero gradient
    EXPECT_NEAR(e->hidden(0), -0.3, 1e-3);
  }
}

TEST(MetaEngine, BatchDivisorAndClear) {
  for (int which = 0; which < 2; ++which) {
    auto e = sgd_unit_engine(which);
    std::vector<mm::LevelChange> ch;
    float g = 5.0F;
    e->accumulate(&g, 1);
    e->clear_accumulator();  // dropped
    g = 2.0F;
    e->accumulate(&g, 1);
    e->set_batch_divisor(4);  // 2 / 4
    e->step(ch);
    EXPECT_NEAR(e->hidden(0), -0.05, 2e-4);
  }
}

TEST(MetaEngine, NewTaskResetsAdamState) {
  // After new_task(), the first Adam step is again lr * sign(g) (bias-corrected m/sqrt(v)).
  auto p = defaults();
  p.m_star = 0.0;
  p.weight_decay = 0.0;
  for (int which = 0; which < 2; ++which) {
    auto e = which == 0 ? mm::make_fixed(p, 1) : mm::make_float(p, 1);
    e->set_hidden(0, 0.0);
    std::vector<mm::LevelChange> ch;
    float g = 0.01F;
    e->accumulate(&g, 1);
    e->step(ch);
    EXPECT_NEAR(e->hidden(0), -0.005, 2e-4);
    g = -0.5F;  // a large opposite gradient: without reset the step would be < lr
    for (int s = 0; s < 3; ++s) {
      e->accumulate(&g, 1);
      e->step(ch);
    }
    EXPECT_EQ(e->steps_in_task(), 4U);
    e->new_task();
    EXPECT_EQ(e->steps_in_task(), 0U);
    const double before = e->hidden(0);
    g = 0.01F;
    e->accumulate(&g, 1);
    e->step(ch);
    EXPECT_NEAR(static_cast<double>(e->hidden(0)) - before, -0.005, 2e-4);
  }
}

TEST(MetaEngine, MemoryAccounting) {
  const auto p = defaults();
  const auto b = mm::memory_bits(p, 1000);
  EXPECT_EQ(b.hidden, 16000U);
  EXPECT_EQ(b.optimizer, 1000U * (32 + 6 + 21));
  EXPECT_EQ(b.stored, 2000U);  // ceil(log2 3) = 2 bits
  EXPECT_EQ(b.gradient, 32000U);
  EXPECT_EQ(b.total(), b.hidden + b.optimizer + b.stored + b.gradient);
  auto p2 = p;
  p2.levels = 16;
  p2.optimizer = "sgd";
  const auto b2 = mm::memory_bits(p2, 10);
  EXPECT_EQ(b2.stored, 40U);
  EXPECT_EQ(b2.optimizer, 0U);
  EXPECT_EQ(mm::make_fixed(p, 1000)->memory_bits().hidden, 16000U);
  EXPECT_EQ(mm::make_float(p, 1000)->memory_bits().hidden, 32000U);
}

TEST(MetaEngine, InitUniformIsDeterministicAndInRange) {
  const auto p = defaults();
  auto a = mm::make_fixed(p, 10000);
  auto b = mm::make_fixed(p, 10000);
  Rng ra(3, "meta.init");
  Rng rb(3, "meta.init");
  a->init_uniform(ra, 0.6);
  b->init_uniform(rb, 0.6);
  double sum = 0;
  double sum2 = 0;
  for (std::size_t i = 0; i < 10000; ++i) {
    ASSERT_EQ(a->hidden(i), b->hidden(i));
    ASSERT_LE(std::fabs(a->hidden(i)), 0.6F + 1e-4F);
    const auto h = static_cast<double>(a->hidden(i));
    sum += h;
    sum2 += h * h;
  }
  // U(-0.6,0.6): mean 0, sd 0.6/sqrt(3) = 0.346; the sample mean's sd is 0.346/100 =
  // 0.00346, so 5 sigma = 0.0173. Variance 0.12, its estimator sd sqrt((0.6^4/5 -
  // 0.12^2)/1e4) = 0.00096; 5 sigma = 0.0048.
  EXPECT_NEAR(sum / 1e4, 0.0, 0.0173);
  EXPECT_NEAR(sum2 / 1e4, 0.12, 0.0048);
}

// The acceptance test: fixed point against the float reference on >= 1e6 weight
// updates per option. Before every step the float engine's hidden weights are set to the
// fixed engine's (exactly representable in float at 16 bits), so every update is
// compared from the same hidden weight; the optimizer states evolve separately from
// the same gradients. Bound per update (docs/meta.md, "Fixed point against float"):
//   |dW_fx - dW_fl| <= 1 LSB (two roundings: the step and its attenuation)
//                      + |dW|max * (e_rsqrt + e_v + e_f + e_c)
// with |dW|max = lr * (1-b1)/sqrt(1-b2)/sqrt(1-b1^2/b2) = 7.3 lr (Cauchy-Schwarz on
// m/sqrt(v); the bias-correction factor is <= 1), e_rsqrt = 2^-(k+2) + 2^-16 (table
// index and value rounding), e_v = 2^-S/(1-b2)/2 (v's storage rounding, accumulated,
// through the square root), e_f the meta LUT bound, e_c = 1e-4 (constants, gradient
// rounding for |g| >= 5e-5).
TEST(MetaFixed, MatchesFloatReferenceWithinTheStatedBound) {
  const std::size_t n = std::size_t{1} << 17;
  const int steps = 8;  // 2^17 * 8 = 1.05e6 updates per option
  for (const char* opt : {"A", "B", "C"}) {
    auto p = defaults();
    p.option = opt;
    auto fx = mm::make_fixed(p, n);
    auto fl = mm::make_float(p, n);
    Rng rng(5, "test.meta.vsfloat");
    fx->init_uniform(rng, 1.5);
    std::vector<double> scale(n);
    for (auto& s : scale) s = std::pow(10.0, rng.uniform(-4.0, -1.0));  // log-uniform 1e-4..1e-1
    std::vector<float> g(n);
    std::vector<mm::LevelChange> cfx;
    std::vector<mm::LevelChange> cfl;
    const double lr = p.lr;
    const double e_rsqrt =
        std::ldexp(1.0, -static_cast<int>(p.rsqrt_lut_bits) - 2) + std::ldexp(1.0, -16);
    const double e_v = std::ldexp(1.0, -static_cast<int>(p.v_sig_bits)) / (1.0 - p.beta2) / 2.0;
    const double e_f = mm::MetaLut(p).error_bound();
    const double dmax =
        lr * (1 - p.beta1) / std::sqrt(1 - p.beta2) / std::sqrt(1 - p.beta1 * p.beta1 / p.beta2);
    const double bound = lsb(p) + dmax * (e_rsqrt + e_v + e_f + 1e-4);
    double worst = 0;
    double sum = 0;
    std::size_t level_mismatch = 0;
    for (int s = 0; s < steps; ++s) {
      for (std::size_t i = 0; i < n; ++i) {
        fl->set_hidden(i, static_cast<double>(fx->hidden(i)));
        const double mag = scale[i] * rng.uniform(0.5, 1.0);
        g[i] = static_cast<float>(rng.uniform() < 0.5 ? -mag : mag);
      }
      fx->accumulate(g.data(), n);
      fl->accumulate(g.data(), n);
      step_both(*fx, cfx, *fl, cfl);
      for (std::size_t i = 0; i < n; ++i) {
        const double err =
            std::fabs(static_cast<double>(fx->hidden(i)) - static_cast<double>(fl->hidden(i)));
        worst = std::max(worst, err);
        sum += err;
        level_mismatch += fx->levels()[i] != fl->levels()[i] ? 1U : 0U;
      }
    }
    const double mean = sum / (static_cast<double>(n) * steps);
    RecordProperty(std::string("max_err_") + opt, std::to_string(worst));
    std::printf(
        "option %s: %zu updates, max |dW_fx - dW_fl| = %.3g (%.2f LSB), mean %.3g, bound %.3g, "
        "level mismatches %zu\n",
        opt, n * steps, worst, worst / lsb(p), mean, bound, level_mismatch);
    EXPECT_LE(worst, bound) << opt;
    EXPECT_LT(mean, 0.5 * lsb(p)) << opt;
    // A level can differ only where the float weight lands within `bound` of a threshold.
    EXPECT_LT(level_mismatch, n * steps / 1000) << opt;
  }
}

// The optimised fixed-point engine (make_fixed) against the frozen pre-optimisation copy
// (tb/unit/meta_fixed_ref.cpp): bit-identical hidden weights, levels and level-change
// lists after every step. Covers Options A/B/C, Adam and SGD (plain and with momentum),
// m* in {0, 3}, ternary, binary and 5 non-uniform levels, batch means over 1 and several
// accumulate() calls and a BATCH divisor, task boundaries, hidden weights at the
// saturation limits and exactly on thresholds, and gradients from 1e-12 (below one
// gradient LSB) to 1e6 and infinity (saturating the gradient format), at two learning rates (the
// default and 0.5, whose steps saturate the hidden weights). Each configuration runs
// n * steps weight updates; the total is asserted >= 1e6.
// MEMPLAST_META_ISA picks the build of the step; a bad value is an error naming it.
TEST(MetaFixed, IsaVariableIsCheckedAndGenericAlwaysRuns) {
  const char* prev = std::getenv("MEMPLAST_META_ISA");
  const std::string saved = prev != nullptr ? prev : "";
  setenv("MEMPLAST_META_ISA", "sse9", 1);
  try {
    (void)mm::make_fixed(defaults(), 16);
    ADD_FAILURE() << "MEMPLAST_META_ISA=sse9 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("MEMPLAST_META_ISA=sse9"), std::string::npos) << e.what();
  }
  setenv("MEMPLAST_META_ISA", "generic", 1);
  EXPECT_EQ(memplast::select_isa("MEMPLAST_META_ISA"), memplast::Isa::generic);
  EXPECT_NO_THROW((void)mm::make_fixed(defaults(), 16));
  if (prev != nullptr) {
    setenv("MEMPLAST_META_ISA", saved.c_str(), 1);
  } else {
    unsetenv("MEMPLAST_META_ISA");
  }
}

TEST(MetaFixed, OptimisedEngineIsBitIdenticalToTheReference) {
  struct Cfg {
    const char* opt;
    const char* optimizer;
    double m_star;
    double momentum;
    int levels;  // 3, 2 or 5 (5: non-uniform level values)
    double lr;
  };
  std::vector<Cfg> cfgs;
  for (const char* opt : {"A", "B", "C"}) {
    for (double ms : {0.0, 3.0}) {
      cfgs.push_back({opt, "adam", ms, 0.0, 3, 0.005});
      cfgs.push_back({opt, "sgd", ms, 0.0, 3, 0.005});
      cfgs.push_back({opt, "sgd", ms, 0.9, 3, 0.5});
      cfgs.push_back({opt, "adam", ms, 0.0, 5, 0.5});
    }
    cfgs.push_back({opt, "adam", 3.0, 0.0, 2, 0.005});
    cfgs.push_back({opt, "sgd", 3.0, 0.5, 5, 0.005});
  }
  const std::size_t n = 12000;  // not a multiple of the engines' blocks: tail handling
  const int steps = 6;
  std::size_t updates = 0;
  std::size_t changes_seen = 0;
  for (std::size_t ci = 0; ci < cfgs.size(); ++ci) {
    const Cfg& c = cfgs[ci];
    auto p = defaults();
    p.option = c.opt;
    p.optimizer = c.optimizer;
    p.m_star = c.m_star;
    p.momentum = c.momentum;
    p.lr = c.lr;
    p.levels = c.levels;
    if (c.levels == 5) p.level_values = {-1.0, -0.6, 0.1, 0.5, 1.0};
    const std::string tag = std::string(c.opt) + "/" + c.optimizer +
                            "/m*=" + std::to_string(c.m_star) +
                            "/mu=" + std::to_string(c.momentum) + "/L=" + std::to_string(c.levels) +
                            "/lr=" + std::to_string(c.lr);
    auto fast = mm::make_fixed(p, n);
    auto ref = mm::ref::make_fixed_ref(p, n);
    Rng ra(11 + ci, "test.meta.bitexact.init");
    Rng rb(11 + ci, "test.meta.bitexact.init");
    fast->init_uniform(ra, 2.0);
    ref->init_uniform(rb, 2.0);
    Rng rng(7 + ci, "test.meta.bitexact");
    // Special hidden values: the limits, zero, exactly on / one LSB off each threshold.
    const auto& q = fast->quantizer();
    std::vector<double> special{-4.0, 4.0, 0.0, -4.0 + lsb(p), 4.0 - lsb(p)};
    for (double t : q.thresholds) {
      const double tq = std::ceil(std::ldexp(t, static_cast<int>(p.hidden_frac_bits))) * lsb(p);
      special.insert(special.end(), {tq, tq - lsb(p), tq + lsb(p)});
    }
    for (std::size_t k = 0; k < 600; ++k) {
      const std::size_t i = rng.below(n);
      const double w = special[k % special.size()];
      fast->set_hidden(i, w);
      ref->set_hidden(i, w);
    }
    std::vector<float> g(n);
    std::vector<mm::LevelChange> cf;
    std::vector<mm::LevelChange> cr;
    for (int s = 0; s < steps; ++s) {
      if (s == 3) {  // task boundary (Adam's t and the moments restart)
        fast->new_task();
        ref->new_task();
      }
      if (s == 4) {
        fast->set_batch_divisor(7);
        ref->set_batch_divisor(7);
      }
      if (s == 5) {
        fast->set_batch_divisor(0);
        ref->set_batch_divisor(0);
      }
      const int calls = (s == 1 || s == 5) ? 3 : 1;  // 1: the exact mean path; 3: rounded 1/3
      for (int a = 0; a < calls; ++a) {
        for (std::size_t i = 0; i < n; ++i) {
          const double u = rng.uniform();
          double mag = std::pow(10.0, rng.uniform(-12.0, 1.0));  // tiny .. large
          if (u < 0.005)
            mag = HUGE_VAL;  // +-inf: clamped by accumulate()
          else if (u < 0.02)
            mag = 0.0;
          else if (u < 0.03)
            mag = 1e6;  // saturates the gradient format
          else if (u < 0.05)
            mag = 31.9;  // near the format's limit (sums saturate)
          g[i] = static_cast<float>(rng.uniform() < 0.5 ? -mag : mag);
        }
        fast->accumulate(g.data(), n);
        ref->accumulate(g.data(), n);
      }
      step_both(*fast, cf, *ref, cr);
      updates += n;
      changes_seen += cr.size();
      ASSERT_EQ(cf.size(), cr.size()) << tag << " step " << s;
      for (std::size_t k = 0; k < cr.size(); ++k) {
        ASSERT_EQ(cf[k].index, cr[k].index) << tag << " step " << s << " change " << k;
        ASSERT_EQ(cf[k].level, cr[k].level) << tag << " step " << s << " change " << k;
      }
      ASSERT_EQ(0, std::memcmp(fast->levels(), ref->levels(), n)) << tag << " step " << s;
      for (std::size_t i = 0; i < n; ++i) {
        const float hf = fast->hidden(i);
        const float hr = ref->hidden(i);
        ASSERT_EQ(0, std::memcmp(&hf, &hr, sizeof hf))
            << tag << " step " << s << " weight " << i << ": " << hf << " vs " << hr;
      }
    }
  }
  std::printf("bit-exact: %zu configurations, %zu weight updates, %zu level changes compared\n",
              cfgs.size(), updates, changes_seen);
  EXPECT_GE(updates, std::size_t{1000000});
  EXPECT_GT(changes_seen, updates / 1000);  // the comparison saw many level changes
}
