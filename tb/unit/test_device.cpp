// Device model: statistics against the configured values, endurance, faults,
// determinism.
//
// Statistical bounds. For N independent normal samples of sigma s:
//   SE(mean) = s / sqrt(N),  SE(sample sd) ~= s / sqrt(2 (N - 1)),
//   SE(sample variance) ~= s^2 sqrt(2 / (N - 1)).
// Every check allows kZ = 5 standard errors (two-sided false-failure probability
// 5.7e-7 per check for a correct model; the streams are seeded, so a run is in fact
// deterministic and the bound only guards against the model being wrong).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "common/schema.hpp"
#include "device/device.hpp"
#include "params_util.hpp"

using memplast::device::DeviceArray;
using memplast::device::DeviceParams;
using memplast::device::Stuck;

namespace {
constexpr double kZ = 5.0;

DeviceParams defaults() { return memplast::test::validated_defaults<DeviceParams>(); }

// No spread of any kind: the nominal response (each test turns one spread back on).
DeviceParams ideal() { return memplast::device::without_spread(defaults()); }

struct Stats {
  double mean{0};
  double sd{0};
};
Stats stats(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  const double m = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return {m, std::sqrt(ss / (n - 1))};
}
}  // namespace

TEST(Device, DefaultsValidateAndBadRangeNamesKeys) {
  DeviceParams p;
  memplast::cfg::Schema s;
  memplast::device::bind_params(s, p);
  s.reset_defaults();
  EXPECT_NO_THROW(s.validate());
  EXPECT_DOUBLE_EQ(p.sigma_slope, -0.009107);
  EXPECT_DOUBLE_EQ(p.sigma_offset_uS, 4.782);
  for (const auto& k : s.keys()) {
    EXPECT_EQ(k.key.rfind("device.", 0), 0U) << k.key;
    EXPECT_FALSE(k.source.empty()) << k.key << " has no source";
  }
  s.apply_override("device.g_min_uS=300");  // g_min > g_max
  memplast::test::expect_error_names(s, "device.g_min_uS");
}

TEST(Device, IdealDeviceIsNominalAndNoiseless) {
  const DeviceParams p = ideal();
  DeviceArray a(p, 8, 42);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_FLOAT_EQ(a.conductance(i, 0), p.g_min_uS);
  const double v = 1.1;
  a.set_pulse(3, v, 1e-6);
  const double expect =
      p.g_min_uS + p.k_g_uS_per_uA * p.k_tr_uA_per_V2 * (v - p.vth_V) * (v - p.vth_V);
  EXPECT_NEAR(a.conductance(3, 1.0), expect, 1e-4);
  EXPECT_NEAR(a.g_set_nominal(v), expect, 1e-9);
  EXPECT_NEAR(a.gate_for(expect), v, 1e-9);
  EXPECT_EQ(a.read(3, 2.0), a.conductance(3, 2.0));
  // RESET: G - g_min shrinks by exp(-(V - V_rth) / scale).
  const double vr = 1.7;
  a.reset_pulse(3, vr, 2e-6);
  const double expect_r =
      p.g_min_uS + (expect - p.g_min_uS) * std::exp(-(vr - p.v_reset_th_V) / p.v_reset_scale_V);
  EXPECT_NEAR(a.conductance(3, 3.0), expect_r, 1e-4);
  // Below the RESET threshold nothing happens; a SET below the present state neither.
  a.reset_pulse(3, p.v_reset_th_V - 0.1, 3e-6);
  a.set_pulse(3, 0.6, 4e-6);
  EXPECT_NEAR(a.conductance(3, 3.0), expect_r, 1e-4);
  EXPECT_EQ(a.pulses(3), 4U);
  // The SET response is monotone in the gate voltage and saturates at g_max.
  double prev = 0;
  for (double vg = 0.3; vg <= 2.0; vg += 0.01) {
    const double g = a.g_set_nominal(vg);
    EXPECT_GE(g, prev);
    EXPECT_LE(g, p.g_max_uS);
    prev = g;
  }
  EXPECT_DOUBLE_EQ(a.g_set_nominal(2.0), p.g_max_uS);
}

// One SET from HRS on N cells per level: mean = G_set(V_g), sd = sigma_G(G_set)
// (Milo et al. fit) when only cycle-to-cycle spread is on.
TEST(Device, PerLevelMeanAndSpreadOfOneSet) {
  DeviceParams p = ideal();
  p.c2c_scale = 1.0;
  constexpr std::size_t kN = 4000;
  for (double g_level : {50.0, 75.0, 100.0, 125.0, 150.0, 175.0, 200.0}) {
    DeviceArray a(p, kN, 7);
    const double vg = a.gate_for(g_level);
    std::vector<double> g(kN);
    for (std::size_t i = 0; i < kN; ++i) {
      a.set_pulse(i, vg, 0);
      g[i] = a.conductance(i, 0);
    }
    const Stats s = stats(g);
    const double sigma = -0.009107 * g_level + 4.782;
    EXPECT_NEAR(s.mean, g_level, kZ * sigma / std::sqrt(kN)) << "level " << g_level;
    EXPECT_NEAR(s.sd, sigma, kZ * sigma / std::sqrt(2.0 * (kN - 1))) << "level " << g_level;
  }
}

// Cycle-to-cycle spread on one cell (repeated RESET-to-HRS then SET) versus the spread
// across cells, which adds the device-to-device gain: var_total = var_c2c + var_d2d,
// var_d2d = (d2d_gain_sigma * (G - g_min))^2.
TEST(Device, CycleToCycleAndDeviceToDeviceSpread) {
  DeviceParams p = ideal();
  p.c2c_scale = 1.0;
  p.d2d_gain_sigma = 0.08;
  constexpr std::size_t kN = 5000;
  const double g_level = 120.0;
  DeviceArray a(p, kN, 99);
  const double vg = a.gate_for(g_level);

  // c2c: one cell, kN cycles.
  std::vector<double> one(kN);
  for (std::size_t k = 0; k < kN; ++k) {
    a.force(0, p.g_min_uS, 0);
    a.set_pulse(0, vg, 0);
    one[k] = a.conductance(0, 0);
  }
  const Stats sc = stats(one);
  const double sig_c2c = a.prog_sigma(sc.mean);
  EXPECT_NEAR(sc.sd, sig_c2c, kZ * sig_c2c / std::sqrt(2.0 * (kN - 1)));
  // The cell's own mean is its d2d-scaled target.
  EXPECT_NEAR(sc.mean, p.g_min_uS + a.d2d_gain(0) * (g_level - p.g_min_uS),
              kZ * sig_c2c / std::sqrt(kN));

  // Across cells: one SET each.
  std::vector<double> across(kN);
  for (std::size_t i = 0; i < kN; ++i) {
    a.force(i, p.g_min_uS, 0);
    a.set_pulse(i, vg, 0);
    across[i] = a.conductance(i, 0);
  }
  const Stats sa = stats(across);
  const double var_d2d = std::pow(p.d2d_gain_sigma * (g_level - p.g_min_uS), 2);
  const double var_exp = a.prog_sigma(g_level) * a.prog_sigma(g_level) + var_d2d;
  EXPECT_NEAR(sa.sd * sa.sd, var_exp, kZ * var_exp * std::sqrt(2.0 / (kN - 1)));
  EXPECT_GT(sa.sd, 2.0 * sc.sd);  // d2d dominates at these settings

  // The per-cell parameters themselves: sample sd of gains and V_th offsets.
  DeviceParams q = defaults();
  DeviceArray b(q, kN, 5);
  std::vector<double> gains(kN);
  std::vector<double> vths(kN);
  for (std::size_t i = 0; i < kN; ++i) {
    gains[i] = b.d2d_gain(i);
    vths[i] = b.d2d_vth_V(i);
  }
  const Stats sg = stats(gains);
  const Stats sv = stats(vths);
  EXPECT_NEAR(sg.mean, 1.0, kZ * q.d2d_gain_sigma / std::sqrt(kN));
  EXPECT_NEAR(sg.sd, q.d2d_gain_sigma, kZ * q.d2d_gain_sigma / std::sqrt(2.0 * (kN - 1)));
  EXPECT_NEAR(sv.mean, 0.0, kZ * q.d2d_vth_sigma_V / std::sqrt(kN));
  EXPECT_NEAR(sv.sd, q.d2d_vth_sigma_V, kZ * q.d2d_vth_sigma_V / std::sqrt(2.0 * (kN - 1)));
}

TEST(Device, ReadNoiseSigma) {
  DeviceParams p = defaults();
  p.relax_scale = 0;
  p.read_sigma_abs_uS = 0.5;
  p.read_sigma_frac = 0.02;
  DeviceArray a(p, 2, 3);
  constexpr std::size_t kN = 20000;
  for (double g0 : {20.0, 100.0, 200.0}) {
    a.force(1, g0, 0);
    std::vector<double> r(kN);
    for (std::size_t k = 0; k < kN; ++k) r[k] = a.read(1, 1.0);
    const Stats s = stats(r);
    const double sigma = 0.5 + 0.02 * g0;
    EXPECT_DOUBLE_EQ(a.read_sigma(g0), sigma);
    EXPECT_NEAR(s.mean, g0, kZ * sigma / std::sqrt(kN));
    EXPECT_NEAR(s.sd, sigma, kZ * sigma / std::sqrt(2.0 * (kN - 1)));
    EXPECT_EQ(a.conductance(1, 1.0), g0);  // reads do not disturb the state
  }
}

// Relaxation: offset r ~ N(mu, sigma) drawn per write, applied with the profile
// log(1 + dt/t0) / log(1 + t_sat/t0) (saturating at 1).
TEST(Device, RelaxationVersusTime) {
  DeviceParams p = ideal();
  p.relax_scale = 1.0;
  p.relax_mean_frac = -0.02;
  constexpr std::size_t kN = 10000;
  DeviceArray a(p, kN, 11);
  const double vg = a.gate_for(120.0);
  const double t_w = 5.0;
  for (std::size_t i = 0; i < kN; ++i) a.set_pulse(i, vg, t_w);
  const double sig = p.relax_sigma_frac * p.g_max_uS;
  const double mu = p.relax_mean_frac * p.g_max_uS;
  std::vector<float> all(kN);
  double prev_sd = -1;
  for (double dt : {0.0, 1e-7, p.relax_t0_s, 1.0, 100.0, p.relax_tsat_s, 10 * p.relax_tsat_s}) {
    const double prof = dt <= 0 ? 0.0
                                : std::min(1.0, std::log1p(dt / p.relax_t0_s) /
                                                    std::log1p(p.relax_tsat_s / p.relax_t0_s));
    EXPECT_NEAR(a.relax_profile(dt), prof, 1e-12);
    a.conductances(t_w + dt, all.data());
    std::vector<double> d(kN);
    for (std::size_t i = 0; i < kN; ++i) {
      d[i] = static_cast<double>(all[i]) - a.programmed(i);
      ASSERT_NEAR(all[i], a.conductance(i, t_w + dt), 1e-3);
    }
    const Stats s = stats(d);
    const double tol_sd = kZ * sig * prof / std::sqrt(2.0 * (kN - 1)) + 1e-4;  // + float rounding
    EXPECT_NEAR(s.mean, mu * prof, kZ * sig * prof / std::sqrt(kN) + 1e-4) << "dt " << dt;
    EXPECT_NEAR(s.sd, sig * prof, tol_sd) << "dt " << dt;
    EXPECT_GE(s.sd, prev_sd - 1e-6);  // spread grows with time
    prev_sd = s.sd;
  }
  // Right after a write (100 ns) relaxation is negligible; at t_sat it is complete.
  EXPECT_LT(a.relax_profile(1e-7), 1e-5);
  EXPECT_DOUBLE_EQ(a.relax_profile(p.relax_tsat_s), 1.0);
  EXPECT_DOUBLE_EQ(a.relax_profile(1e9), 1.0);
}

TEST(Device, EnduranceBudgetSticksAndCountsPulses) {
  DeviceParams p = defaults();
  p.endurance_median = 200;
  p.endurance_sigma_ln = 0.5;
  constexpr std::size_t kCells = 64;
  DeviceArray a(p, kCells, 21);
  for (std::size_t i = 0; i < kCells; ++i) {
    const std::uint32_t b = a.budget(i);
    ASSERT_GE(b, 1U);
    std::uint32_t n = 0;
    for (; n < b; ++n) {
      if (n % 2 == 0) {
        a.set_pulse(i, 1.2, n * 1e-6);
      } else {
        a.reset_pulse(i, 2.0, n * 1e-6);
      }
      ASSERT_EQ(a.stuck(i), Stuck::none) << "cell " << i << " stuck before its budget";
    }
    a.set_pulse(i, 1.2, n * 1e-6);  // pulse budget + 1
    ++n;
    ASSERT_NE(a.stuck(i), Stuck::none) << "cell " << i;
    const double g_stuck = a.stuck(i) == Stuck::at_lrs ? p.g_max_uS : p.g_min_uS;
    EXPECT_DOUBLE_EQ(a.conductance(i, 1e3), g_stuck);
    for (int k = 0; k < 10; ++k) {
      a.reset_pulse(i, 3.0, 1.0);
      a.set_pulse(i, 1.6, 1.0);
      n += 2;
    }
    EXPECT_DOUBLE_EQ(a.conductance(i, 1e3), g_stuck);
    EXPECT_EQ(a.pulses(i), n);
  }
  // Both kinds occur with stuck_lrs_prob = 0.5 (P(all 64 the same) = 2^-63).
  std::size_t lrs = 0;
  for (std::size_t i = 0; i < kCells; ++i) lrs += a.stuck(i) == Stuck::at_lrs ? 1 : 0;
  EXPECT_GT(lrs, 0U);
  EXPECT_LT(lrs, kCells);
}

// Budget ~ lognormal(median, sigma_ln): mean of ln(budget) = ln(median) within
// kZ sigma_ln / sqrt(N) (+ rounding to integers, < 1e-5 in ln at these sizes).
TEST(Device, EnduranceBudgetDistribution) {
  const DeviceParams p = defaults();
  constexpr std::size_t kN = 16384;
  DeviceArray a(p, kN, 8);
  std::vector<double> lb(kN);
  for (std::size_t i = 0; i < kN; ++i) lb[i] = std::log(static_cast<double>(a.budget(i)));
  const Stats s = stats(lb);
  EXPECT_NEAR(s.mean, std::log(p.endurance_median),
              kZ * p.endurance_sigma_ln / std::sqrt(kN) + 1e-5);
  EXPECT_NEAR(s.sd, p.endurance_sigma_ln, kZ * p.endurance_sigma_ln / std::sqrt(2.0 * (kN - 1)));
}

// stuck_rate: the count of stuck cells is Binomial(N, rate); bound kZ sqrt(N r (1 - r)).
TEST(Device, StuckAtInjectionByRateAndByCell) {
  DeviceParams p = defaults();
  p.stuck_rate = 0.1;
  p.stuck_lrs_prob = 0.25;
  constexpr std::size_t kN = 16384;
  DeviceArray a(p, kN, 4);
  const double n = static_cast<double>(kN);
  const double sd = std::sqrt(n * 0.1 * 0.9);
  EXPECT_NEAR(static_cast<double>(a.stuck_count()), n * 0.1, kZ * sd);
  std::size_t lrs = 0;
  for (std::size_t i = 0; i < kN; ++i) lrs += a.stuck(i) == Stuck::at_lrs ? 1 : 0;
  const double ns = static_cast<double>(a.stuck_count());
  EXPECT_NEAR(static_cast<double>(lrs), 0.25 * ns, kZ * std::sqrt(ns * 0.25 * 0.75));

  DeviceParams q = defaults();
  DeviceArray b(q, 4, 4);
  EXPECT_EQ(b.stuck_count(), 0U);
  b.set_pulse(2, 1.2, 0);
  b.make_stuck(2, Stuck::at_hrs, 1e-6);
  b.make_stuck(3, Stuck::at_lrs, 1e-6);
  b.force(2, 150.0, 2e-6);
  b.set_pulse(2, 1.6, 3e-6);
  b.reset_pulse(3, 3.0, 3e-6);
  EXPECT_DOUBLE_EQ(b.conductance(2, 1e5), q.g_min_uS);
  EXPECT_DOUBLE_EQ(b.conductance(3, 1e5), q.g_max_uS);
  EXPECT_EQ(b.pulses(2), 2U);
  EXPECT_EQ(b.stuck_count(), 2U);
}

TEST(Device, IvNonlinearity) {
  DeviceParams p = ideal();
  DeviceArray lin(p, 1, 1);
  lin.force(0, 100.0, 0);
  EXPECT_DOUBLE_EQ(lin.current(0, 0.2, 0), 100.0 * 0.2);
  p.nl_a2_per_V = 0.1;
  p.nl_a3_per_V2 = 0.5;
  DeviceArray nl(p, 1, 1);
  nl.force(0, 100.0, 0);
  const double v = 0.3;
  EXPECT_NEAR(nl.current(0, v, 0), 100.0 * v * (1 + 0.1 * v + 0.5 * v * v), 1e-9);
  EXPECT_NEAR(nl.current_of(50.0, -v), 50.0 * -v * (1 - 0.1 * v + 0.5 * v * v), 1e-9);
}

namespace {
std::vector<float> run_sequence(std::uint64_t seed) {
  const DeviceParams p = defaults();
  DeviceArray a(p, 256, seed);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a.set_pulse(i, 0.8 + 0.003 * static_cast<double>(i), 1e-6);
    if (i % 3 == 0) a.reset_pulse(i, 1.6, 2e-6);
    (void)a.read(i, 3e-6);
  }
  std::vector<float> out(a.size());
  a.conductances(10.0, out.data());
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back(static_cast<float>(a.read(i, 11.0)));
  return out;
}
}  // namespace

TEST(Device, DeterminismSameSeedSameDifferentSeedDifferent) {
  const auto a = run_sequence(1234);
  const auto b = run_sequence(1234);
  const auto c = run_sequence(1235);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a, b);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) differ += a[i] != c[i] ? 1 : 0;
  EXPECT_GT(differ, a.size() * 9 / 10);
}

// A cell's stream is its own: programming order does not change a cell's outcome.
TEST(Device, PerCellStreamsIndependentOfOrder) {
  const DeviceParams p = defaults();
  DeviceArray a(p, 16, 77);
  DeviceArray b(p, 16, 77);
  for (std::size_t i = 0; i < 16; ++i) a.set_pulse(i, 1.0, 0);
  for (std::size_t i = 16; i-- > 0;) b.set_pulse(i, 1.0, 0);
  for (std::size_t i = 0; i < 16; ++i) EXPECT_EQ(a.conductance(i, 5.0), b.conductance(i, 5.0));
}

// Checkpoint (DeviceArray::state_io): an array restored into a fresh one of another seed
// continues exactly as the original: conductances, relaxation, reads (per-cell streams),
// pulse counts, wear and stuck flags.
TEST(Device, StateRoundTripContinuesBitForBit) {
  DeviceParams p = defaults();
  p.endurance_median = 30;  // some cells wear out and stick within the test
  DeviceArray a(p, 64, 11);
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (int k = 0; k < static_cast<int>(i % 40); ++k) {
      a.set_pulse(i, 1.0 + 0.01 * k, 1e-3 * k);
      a.reset_pulse(i, 1.2, 1e-3 * k + 5e-4);
    }
  }
  a.make_stuck(3, Stuck::at_hrs, 0.1);
  auto w = memplast::StateIO::writer();
  a.state_io(w);
  DeviceArray b(p, 64, 999);
  auto rd = memplast::StateIO::reader(w.buffer(), "ckpt");
  b.state_io(rd);
  rd.expect_end();
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b.stuck(i), a.stuck(i));
    EXPECT_EQ(b.pulses(i), a.pulses(i));
    EXPECT_EQ(b.last_write_s(i), a.last_write_s(i));
    EXPECT_EQ(b.conductance(i, 2.0), a.conductance(i, 2.0));
    EXPECT_EQ(b.read(i, 2.5), a.read(i, 2.5));
    a.set_pulse(i, 1.1, 3.0);
    b.set_pulse(i, 1.1, 3.0);
    EXPECT_EQ(b.read(i, 3.5), a.read(i, 3.5));
  }
  EXPECT_GT(a.stuck_count(), 1U);
  EXPECT_EQ(b.stuck_count(), a.stuck_count());
  // Another cell count is refused.
  DeviceArray c(p, 32, 11);
  auto rd2 = memplast::StateIO::reader(w.buffer(), "ckpt");
  EXPECT_THROW(c.state_io(rd2), std::runtime_error);
}
