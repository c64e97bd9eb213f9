// Read disturb (device.read_disturb_*; docs/device.md "Read disturb"): the tile
// accumulates each driven line's dose over its MVMs' reads (the voltage law
// exp((|V| - v_ref) / v_accel)), and applying it moves every device toward g_max by
// (g_max - G)(1 - exp(-rate dose))(1 + sigma z). Statistical test of the law: the
// change over its expected value has mean 1 and standard deviation sigma, within bounds
// from the sample size (4 standard errors).
#include <cmath>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "tile/tile_core.hpp"

namespace mt = memplast::tile;

namespace {

constexpr int kN = 64;
constexpr int kBatch = 100;
constexpr int kBatches = 10;
constexpr float kOdd = 191.0F / 255.0F;  // a DAC level: 0.7490 of v_read

memplast::device::DeviceParams disturb_params() {
  memplast::device::DeviceParams dp;
  dp.relax_sigma_frac = 0;  // no relaxation: G(t) is the programmed value
  dp.relax_mean_frac = 0;
  dp.read_disturb_rate = 1e-4;  // large, so that 1000 reads move cells measurably
  dp.read_disturb_sigma = 0.3;
  return dp;
}

}  // namespace

TEST(TileReadDisturb, DoseFollowsVoltageLawAndChangeFollowsLawStatistically) {
  mt::TileParams p;
  p.rows = kN;
  p.cols = kN;
  const auto dp = disturb_params();
  mt::TileCore tile(p, dp, 11, "disturb");  // every weight at level 1 (w = 0): G = g_off
  std::vector<float> x(static_cast<std::size_t>(kN * kBatch));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (i % kN) % 2 == 0 ? 1.0F : kOdd;
  std::vector<float> y(x.size());
  for (int b = 0; b < kBatches; ++b) tile.forward_batch(x.data(), kBatch, y.data(), 0.0);
  const double reads = kBatch * kBatches;
  const double f_even = 1.0;  // |V| = v_ref
  const double f_odd = std::exp((static_cast<double>(kOdd) * 0.2 - 0.2) / 0.05);
  EXPECT_NEAR(tile.read_dose(mt::Direction::forward, 0), reads * f_even, 1e-9 * reads);
  EXPECT_NEAR(tile.read_dose(mt::Direction::forward, 1), reads * f_odd, 1e-6 * reads);
  EXPECT_EQ(tile.read_dose(mt::Direction::transpose, 0), 0.0);

  std::vector<float> g0p(tile.array(mt::Side::pos).size());
  std::vector<float> g0n(g0p.size());
  tile.array(mt::Side::pos).conductances(0.0, g0p.data());
  tile.array(mt::Side::neg).conductances(0.0, g0n.data());
  tile.apply_read_disturb(0.0);
  EXPECT_EQ(tile.read_dose(mt::Direction::forward, 0), 0.0);  // applied and cleared
  // q = change / expected change, per row parity (two voltages).
  for (int parity = 0; parity < 2; ++parity) {
    const double dose = reads * (parity == 0 ? f_even : f_odd);
    double s = 0;
    double s2 = 0;
    int n = 0;
    for (int r = parity; r < kN; r += 2) {
      for (int c = 0; c < kN; ++c) {
        const std::size_t i = tile.cell_index(r, c);
        for (int side = 0; side < 2; ++side) {
          const auto& arr = tile.array(side == 0 ? mt::Side::pos : mt::Side::neg);
          const double g0 = side == 0 ? g0p[i] : g0n[i];
          const double expect = (dp.g_max_uS - g0) * -std::expm1(-dp.read_disturb_rate * dose);
          const double q = (arr.conductance(i, 0.0) - g0) / expect;
          s += q;
          s2 += q * q;
          ++n;
        }
      }
    }
    const double mean = s / n;
    const double var = (s2 - n * mean * mean) / (n - 1);
    const double sig2 = dp.read_disturb_sigma * dp.read_disturb_sigma;
    const double mean_bound = 4.0 * dp.read_disturb_sigma / std::sqrt(n);
    const double var_bound = 4.0 * std::sqrt(2.0 / (n - 1));
    std::printf(
        "read disturb, |V| = %.4f V, dose %.1f: n %d, mean(change/law) %.4f (bound "
        "+-%.4f), var/sigma^2 %.4f (bound +-%.4f)\n",
        0.2 * (parity == 0 ? 1.0 : static_cast<double>(kOdd)), dose, n, mean, mean_bound,
        var / sig2, var_bound);
    EXPECT_NEAR(mean, 1.0, mean_bound);
    EXPECT_NEAR(var / sig2, 1.0, var_bound);
  }
  // The MVM sees the change: after the rebuild the mean weight is still ~0 (both devices
  // of a pair move alike) but the conductance sum grew.
  EXPECT_GT(tile.read_disturb_total_uS(), 0.0);

  // Transpose, signed: every column is driven in one of the two phases at |d| = 1.
  std::vector<float> xt(static_cast<std::size_t>(kN * kBatch));
  for (std::size_t i = 0; i < xt.size(); ++i) xt[i] = i % 3 == 0 ? -1.0F : 1.0F;
  tile.transpose_batch(xt.data(), kBatch, y.data(), 0.0, true);
  EXPECT_NEAR(tile.read_dose(mt::Direction::transpose, 5), kBatch, 1e-9);
  EXPECT_EQ(tile.read_dose(mt::Direction::forward, 5), 0.0);
}

TEST(TileReadDisturb, OffByDefaultAccumulatesNothing) {
  mt::TileParams p;
  p.rows = 8;
  p.cols = 8;
  mt::TileCore tile(p, memplast::device::DeviceParams{}, 11, "off");
  std::vector<float> x(8, 1.0F);
  std::vector<float> y(8);
  tile.forward_batch(x.data(), 1, y.data(), 0.0);
  EXPECT_EQ(tile.read_dose(mt::Direction::forward, 0), 0.0);
  EXPECT_EQ(tile.apply_read_disturb(0.0), 0.0);
}
