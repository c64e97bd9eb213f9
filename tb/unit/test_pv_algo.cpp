// Program-and-verify algorithm core: ramp logic, convergence on a healthy array,
// failure without hanging on stuck cells, band width versus iterations, time and
// energy accounting.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "common/schema.hpp"
#include "device/device.hpp"
#include "params_util.hpp"
#include "pv/pv_algo.hpp"

using memplast::device::DeviceArray;
using memplast::device::DeviceParams;
using memplast::device::Stuck;
using memplast::pv::PvBand;
using memplast::pv::PvFsm;
using memplast::pv::PvParams;

namespace {
constexpr double kZ = 5.0;
// Event costs of the default tile (TileCore::verify_cost / pulse_cost are tested in
// test_tile; any positive values do here): 100 ns pulses, 61 ns verify.
constexpr memplast::pv::PvCosts kCosts{61e-9, 100e-9, 13.4e-12, 10.5e-12};

DeviceParams dev_defaults() { return memplast::test::validated_defaults<DeviceParams>(); }
PvParams pv_defaults() { return memplast::test::validated_defaults<PvParams>(); }

// The characterization's level grid: 9 uniform levels on 40..200 uS (spacing 20 uS).
constexpr int kLevels = 9;
constexpr double kGLo = 40.0;
constexpr double kSpacing = 20.0;
double level_g(int k) { return kGLo + kSpacing * k; }
}  // namespace

TEST(PvAlgo, DefaultsValidateAndKeysHaveSources) {
  PvParams p;
  memplast::cfg::Schema s;
  memplast::pv::bind_params(s, p);
  s.reset_defaults();
  EXPECT_NO_THROW(s.validate());
  for (const auto& k : s.keys()) {
    EXPECT_EQ(k.key.rfind("pv.", 0), 0U) << k.key;
    if (k.type != memplast::cfg::Type::String) {
      EXPECT_FALSE(k.source.empty()) << k.key;
    }
  }
  s.apply_override("pv.v_gate_start_V=1.7");  // start > max
  memplast::test::expect_error_names(s, "pv.v_gate_start_V");
}

// pv.f_clk_MHz: a clocked controller spends whole cycles on an event (the tile's 61 ns
// default verify is 7 cycles at 100 MHz), an unclocked one exactly the event's time.
TEST(PvAlgo, ClockedEventTimesRoundUpToWholeCycles) {
  EXPECT_DOUBLE_EQ(memplast::pv::clocked_s(61e-9, 100.0), 70e-9);
  EXPECT_DOUBLE_EQ(memplast::pv::clocked_s(100e-9, 100.0), 100e-9);  // already whole
  EXPECT_DOUBLE_EQ(memplast::pv::clocked_s(61e-9, 1000.0), 61e-9);
  EXPECT_DOUBLE_EQ(memplast::pv::clocked_s(61e-9, 0.0), 61e-9);  // unclocked
  const auto c = memplast::pv::clocked({61e-9, 100e-9, 1.0, 2.0}, 100.0);
  EXPECT_DOUBLE_EQ(c.t_verify_s, 70e-9);
  EXPECT_DOUBLE_EQ(c.t_pulse_s, 100e-9);
  EXPECT_DOUBLE_EQ(c.e_verify_J, 1.0);
  EXPECT_DOUBLE_EQ(c.e_pulse_J, 2.0);
}

TEST(PvAlgo, BandForLevel) {
  PvParams p = pv_defaults();
  const PvBand b = memplast::pv::band_for(100.0, 20.0, p);
  EXPECT_DOUBLE_EQ(b.lo_uS, 100.0 - 0.25 * 20.0);
  EXPECT_DOUBLE_EQ(b.hi_uS, 100.0 + 0.25 * 20.0);
  p.band_frac_per_level = {0.1, 0.4};
  const PvBand b1 = memplast::pv::band_for(60.0, 20.0, p, 1);
  EXPECT_DOUBLE_EQ(b1.hi_uS - b1.lo_uS, 2 * 0.4 * 20.0);
  EXPECT_THROW((void)memplast::pv::band_for(60.0, 20.0, p, 2), std::out_of_range);
  EXPECT_THROW((void)memplast::pv::band_for(60.0, 20.0, p), std::out_of_range);
}

// Scripted verify reads drive the ramps: SET voltage rises per SET, RESET amplitude
// per RESET; on a reversal a ramp resumes reversal_backoff_steps below its own last
// pulse (not below its floor); both saturate at their maxima.
TEST(PvAlgo, FsmRampsBackOffAndSaturate) {
  PvParams p = pv_defaults();
  p.set_start = "fixed";
  p.max_iterations = 1000;
  ASSERT_EQ(p.reversal_backoff_steps, 2);
  const PvBand band{95.0, 105.0};
  PvFsm f(p, band, 1.0);
  PvFsm::Action a;
  for (int k = 0; k < 6; ++k) {  // 0.70 .. 0.75
    a = f.on_verify(10.0);
    ASSERT_EQ(a.kind, PvFsm::Kind::set);
    EXPECT_NEAR(a.voltage_V, 0.70 + 0.01 * k, 1e-12);
  }
  a = f.on_verify(150.0);
  ASSERT_EQ(a.kind, PvFsm::Kind::reset);
  EXPECT_NEAR(a.voltage_V, 1.20, 1e-12);
  a = f.on_verify(140.0);
  EXPECT_NEAR(a.voltage_V, 1.22, 1e-12);
  a = f.on_verify(50.0);  // reversal: 0.75 - 2 x 0.01
  ASSERT_EQ(a.kind, PvFsm::Kind::set);
  EXPECT_NEAR(a.voltage_V, 0.73, 1e-12);
  a = f.on_verify(50.0);
  EXPECT_NEAR(a.voltage_V, 0.74, 1e-12);
  a = f.on_verify(150.0);  // reversal: 1.22 - 2 x 0.02 = 1.18, floored at 1.20
  ASSERT_EQ(a.kind, PvFsm::Kind::reset);
  EXPECT_NEAR(a.voltage_V, 1.20, 1e-12);
  for (int k = 0; k < 200; ++k) a = f.on_verify(150.0);
  EXPECT_DOUBLE_EQ(a.voltage_V, p.v_reset_max_V);
  a = f.on_verify(50.0);  // reversal: 0.74 - 0.02
  EXPECT_NEAR(a.voltage_V, 0.72, 1e-12);
  for (int k = 0; k < 200; ++k) a = f.on_verify(50.0);
  EXPECT_DOUBLE_EQ(a.voltage_V, p.v_gate_max_V);
  a = f.on_verify(100.0);
  EXPECT_EQ(a.kind, PvFsm::Kind::done_ok);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.on_verify(0.0).kind, PvFsm::Kind::done_ok);  // stays done, counts frozen
  const auto& r = f.result();
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.n_set, 6 + 2 + 1 + 200);
  EXPECT_EQ(r.n_reset, 2 + 1 + 200);
  EXPECT_EQ(r.iterations, r.n_set + r.n_reset);
  EXPECT_EQ(r.n_verify, r.iterations + 1);
  EXPECT_DOUBLE_EQ(r.g_final_uS, 100.0);

  // "target" start: gate_for(target) - backoff.
  p.set_start = "target";
  PvFsm g(p, band, 1.2);
  EXPECT_NEAR(g.on_verify(0.0).voltage_V, 1.2 - p.v_gate_backoff_V, 1e-12);
  // Iteration limit: max_iterations pulses, then failure.
  p.max_iterations = 5;
  PvFsm h(p, band, 1.2);
  int pulses = 0;
  while (h.on_verify(0.0).kind == PvFsm::Kind::set) ++pulses;
  EXPECT_EQ(pulses, 5);
  EXPECT_FALSE(h.result().success);
  EXPECT_EQ(h.result().n_verify, 6);
}

// Every cell of a healthy 128 x 128 array lands in band within the limit. Right after
// programming, each level's (noiseless) conductance mean is inside its band and its
// spread is below the band half-width.
TEST(PvAlgo, HealthyArrayAllCellsInBand) {
  const DeviceParams dp = dev_defaults();
  const PvParams pp = pv_defaults();
  constexpr std::size_t kN = 128 * 128;
  DeviceArray a(dp, kN, memplast::derive_seed(1, "tile0.pos"));
  std::vector<std::vector<double>> per_level(kLevels);
  std::vector<double> iters;
  double t = 0;
  int max_it = 0;
  for (std::size_t i = 0; i < kN; ++i) {
    const int k = static_cast<int>(i % kLevels);
    const PvBand band = memplast::pv::band_for(level_g(k), kSpacing, pp);
    const auto r = memplast::pv::program_verify(a, i, level_g(k), band, pp, t, kCosts);
    t += r.duration_s;  // the cells are programmed one after the other
    ASSERT_TRUE(r.success) << "cell " << i << " level " << k << " g " << r.g_final_uS;
    ASSERT_LE(r.iterations, pp.max_iterations);
    ASSERT_TRUE(band.contains(r.g_final_uS));
    max_it = std::max(max_it, r.iterations);
    iters.push_back(r.iterations);
    per_level[static_cast<std::size_t>(k)].push_back(a.conductance(i, t));
  }
  const double mean_it = std::accumulate(iters.begin(), iters.end(), 0.0) / static_cast<double>(kN);
  RecordProperty("mean_iterations", std::to_string(mean_it));
  RecordProperty("max_iterations", std::to_string(max_it));
  std::printf("healthy 128x128: mean iterations %.3f, max %d\n", mean_it, max_it);
  for (int k = 0; k < kLevels; ++k) {
    const auto& v = per_level[static_cast<std::size_t>(k)];
    const double m = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
    const PvBand band = memplast::pv::band_for(level_g(k), kSpacing, pp);
    std::printf("level %d target %.1f: mean %.2f sd %.2f uS (n %zu)\n", k, level_g(k), m, sd,
                v.size());
    EXPECT_TRUE(band.contains(m)) << "level " << k << " mean " << m;
    EXPECT_LT(sd, 0.25 * kSpacing) << "level " << k;
  }
}

TEST(PvAlgo, StuckCellFailsWithoutHanging) {
  const DeviceParams dp = dev_defaults();
  PvParams pp = pv_defaults();
  pp.max_iterations = 37;
  DeviceArray a(dp, 4, 9);
  a.make_stuck(0, Stuck::at_hrs, 0);
  a.make_stuck(1, Stuck::at_lrs, 0);
  const PvBand band = memplast::pv::band_for(100.0, kSpacing, pp);
  for (std::size_t i : {0U, 1U}) {
    const auto r = memplast::pv::program_verify(a, i, 100.0, band, pp, 0, kCosts);
    EXPECT_FALSE(r.success);
    EXPECT_EQ(r.iterations, 37);
    EXPECT_EQ(r.n_verify, 38);
    EXPECT_EQ(r.n_set + r.n_reset, 37);
    EXPECT_EQ(a.pulses(i), 37U);
    if (i == 0) {
      EXPECT_EQ(r.n_set, 37);  // always below the band
    } else {
      EXPECT_EQ(r.n_reset, 37);  // always above
    }
  }
  // A worn-out cell (budget exhausted during the loop) also ends.
  DeviceParams worn = dp;
  worn.endurance_median = 3;
  worn.endurance_sigma_ln = 0;
  DeviceArray w(worn, 64, 10);
  int failed = 0;
  for (std::size_t i = 0; i < 64; ++i) {
    for (int k = 0; k < 4; ++k) w.set_pulse(i, 1.0, 0);  // 4 > budget 3: stuck
    ASSERT_NE(w.stuck(i), Stuck::none);
    const auto r = memplast::pv::program_verify(w, i, 100.0, band, pp, 0, kCosts);
    failed += r.success ? 0 : 1;
  }
  EXPECT_EQ(failed, 64);
}

// Narrower band -> more iterations. N cells per band width on one mid level; the
// difference of mean iteration counts must exceed kZ standard errors of the
// difference, SE = sqrt(var_n / N + var_w / N).
TEST(PvAlgo, NarrowerBandNeedsMoreIterations) {
  const DeviceParams dp = dev_defaults();
  PvParams narrow = pv_defaults();
  narrow.band_frac = 0.1;
  PvParams wide = pv_defaults();
  wide.band_frac = 0.35;
  constexpr std::size_t kN = 3000;
  auto run = [&](const PvParams& pp, std::uint64_t seed, double& var) {
    DeviceArray a(dp, kN, seed);
    std::vector<double> it(kN);
    for (std::size_t i = 0; i < kN; ++i) {
      const double g = level_g(4);
      const auto r = memplast::pv::program_verify(a, i, g, memplast::pv::band_for(g, kSpacing, pp),
                                                  pp, 0, kCosts);
      EXPECT_TRUE(r.success);
      it[i] = r.iterations;
    }
    const double m = std::accumulate(it.begin(), it.end(), 0.0) / kN;
    double ss = 0;
    for (double x : it) ss += (x - m) * (x - m);
    var = ss / (kN - 1);
    return m;
  };
  double vn = 0;
  double vw = 0;
  const double mn = run(narrow, 100, vn);
  const double mw = run(wide, 200, vw);
  std::printf("mean iterations: band 0.10 -> %.3f, band 0.35 -> %.3f\n", mn, mw);
  EXPECT_GT(mn - mw, kZ * std::sqrt(vn / kN + vw / kN));
}

TEST(PvAlgo, TimeAndEnergyAccounting) {
  const DeviceParams dp = dev_defaults();
  PvParams pp = pv_defaults();
  const memplast::pv::PvCosts costs{40e-9, 150e-9, 0.7e-12, 11e-12};
  pp.band_frac = 0.08;  // narrow: both SETs and RESETs occur
  DeviceArray a(dp, 200, 31);
  int total_reset = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double g = level_g(static_cast<int>(i % kLevels));
    const auto r = memplast::pv::program_verify(a, i, g, memplast::pv::band_for(g, kSpacing, pp),
                                                pp, 0, costs);
    EXPECT_EQ(r.n_set + r.n_reset, r.iterations);
    EXPECT_EQ(r.n_verify, r.iterations + 1);
    EXPECT_EQ(a.pulses(i), static_cast<std::uint32_t>(r.iterations));
    EXPECT_NEAR(r.duration_s, (r.n_set + r.n_reset) * 150e-9 + r.n_verify * 40e-9, 1e-18);
    EXPECT_NEAR(r.energy_j, (r.n_set + r.n_reset) * 11e-12 + r.n_verify * 0.7e-12, 1e-24);
    // Pulses happen inside the loop's time span (sub-threshold RESETs do not write).
    EXPECT_LE(a.last_write_s(i), r.duration_s - 40e-9 + 1e-15);
    total_reset += r.n_reset;
  }
  EXPECT_GT(total_reset, 0);
}

// device.ideal: every level change lands in its band with one calibrated pulse (SET
// at gate_for(target), RESET at reset_for(read, target)) and two verifies, up and down
// the level grid; the result is the target itself except for a RESET to g_min, which
// the RESET law only approaches (the amplitude saturates at v_reset_max_V).
TEST(PvAlgo, IdealDeviceOnePulsePerWrite) {
  DeviceParams dp = dev_defaults();
  dp.ideal = true;
  const PvParams p = pv_defaults();
  constexpr std::size_t kCells = 16;
  DeviceArray dev(dp, kCells, 7);
  const std::vector<int> walk{8, 0, 5, 2, 7, 1, 4, 3, 6, 0};
  double t = 0;
  for (std::size_t c = 0; c < kCells; ++c) {
    int prev = -1;
    for (std::size_t k = 0; k < walk.size(); ++k) {
      const int lv = walk[(k + c) % walk.size()];
      const double g = level_g(lv);
      const auto band = memplast::pv::band_for(g, kSpacing, p);
      const auto r = memplast::pv::program_verify(dev, c, g, band, p, t, kCosts);
      t += r.duration_s;
      ASSERT_TRUE(r.success) << "cell " << c << " level " << lv;
      const int expected_pulses = lv == prev ? 0 : 1;
      EXPECT_EQ(r.n_set + r.n_reset, expected_pulses) << "cell " << c << " level " << lv;
      EXPECT_EQ(r.n_verify, 1 + expected_pulses);
      // Within the quantization of the codes: the 1 mV gate DAC step (about 0.2 uS at
      // the top of the range) and the 0.01 uS verify ADC step.
      EXPECT_NEAR(r.g_final_uS, g, 0.3) << "cell " << c << " level " << lv;
      EXPECT_EQ(dev.read(c, t + 1.0), dev.conductance(c, t + 1.0));  // no noise, no drift
      prev = lv;
    }
  }
  // Down to g_min: one RESET at v_reset_max_V, inside a band of a quarter of 97.5 uS
  // (the default ternary tile's level spacing) but not at g_min itself.
  const double g_min = dp.g_min_uS;
  const auto band = memplast::pv::band_for(g_min, 97.5, p);
  const auto r = memplast::pv::program_verify(dev, 0, g_min, band, p, t, kCosts);
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.n_reset, 1);
  EXPECT_EQ(r.n_set, 0);
  EXPECT_GT(r.g_final_uS, g_min);
  EXPECT_EQ(dev.reset_for(level_g(0), g_min), std::numeric_limits<double>::infinity());
}
