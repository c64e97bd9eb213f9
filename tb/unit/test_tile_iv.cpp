// I-V nonlinearity in the tile MVM (device.nl_*; docs/tile.md "I-V nonlinearity"): the
// forward and transpose MVMs against a per-cell reference summed from the device's own
// current function (DeviceArray::current_of), for amplitude and bit-serial encoding;
// bit-serial pulses see only a per-cell gain (with G-independent coefficients, one gain
// for the whole array), amplitude reads a distortion; with the coefficients at 0 the
// tile is the linear one, bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "common/rng.hpp"
#include "common/schema.hpp"
#include "tile/tile_core.hpp"

namespace mt = memplast::tile;
namespace md = memplast::device;

namespace {

constexpr int kR = 48;
constexpr int kC = 40;
constexpr int kBatch = 6;
constexpr double kDacMax = 255.0;  // tile.dac_bits = 8

mt::TileParams iv_tile(const char* encoding) {
  mt::TileParams p;
  p.rows = kR;
  p.cols = kC;
  p.levels = 9;
  p.adc_bits = 14;  // a fine ADC: its step bounds the comparison
  p.read_noise = false;
  p.encoding = encoding;
  return p;
}

md::DeviceParams iv_device(double a2, double a3, double hrs_factor) {
  md::DeviceParams dp;
  dp.relax_sigma_frac = 0;  // G(t) = the programmed value
  dp.nl_a2_per_V = a2;
  dp.nl_a3_per_V2 = a3;
  dp.nl_hrs_factor = hrs_factor;
  return dp;
}

// Random levels (row-major R x C) and random drives on the DAC grid (k / 255), signed.
void program_random(mt::TileCore& t, std::uint64_t seed) {
  memplast::Rng rng(seed, "levels");
  std::vector<int> lv(static_cast<std::size_t>(kR * kC));
  for (auto& l : lv) l = static_cast<int>(rng.uniform() * 9.0) % 9;
  t.program_ideal_all(lv.data(), 0.0);
}
std::vector<float> random_drives(int n, std::uint64_t seed) {
  memplast::Rng rng(seed, "x");
  std::vector<float> x(static_cast<std::size_t>(n * kBatch));
  for (auto& v : x) {
    v = static_cast<float>(std::nearbyint((2.0 * rng.uniform() - 1.0) * kDacMax) / kDacMax);
  }
  return x;
}

// Reference output j of vector v: the sensed current over v_read x weight unit, each
// cell's current from current_of at its own voltage (amplitude: x v_read; bit-serial:
// v_read per pulse, the pulses weighted 2^b / 255 summing to x), each phase (positive,
// negative drive) subtracted digitally.
double reference(const mt::TileCore& t, mt::Direction dir, const float* x, int j, bool bit_serial) {
  const md::DeviceArray& pos = t.array(mt::Side::pos);
  const md::DeviceArray& neg = t.array(mt::Side::neg);
  const double v = t.params().v_read_V;
  const bool fwd = dir == mt::Direction::forward;
  const int n_in = fwd ? kR : kC;
  double y = 0;
  for (int i = 0; i < n_in; ++i) {
    const int r = fwd ? i : j;
    const int c = fwd ? j : i;
    const std::size_t k = t.cell_index(r, c);
    const double gp = pos.conductance(k, 0.0);
    const double gn = neg.conductance(k, 0.0);
    for (const double sgn : {1.0, -1.0}) {
      const double d = std::max(0.0, sgn * static_cast<double>(x[i]));  // this phase's drive
      if (d == 0) continue;
      const double u = bit_serial ? v : d * v;
      const double scale = bit_serial ? d : 1.0;
      // Forward: both devices at +u, columns subtracted; transpose: G- driven at -u.
      const double i_pair = fwd ? pos.current_of(gp, u) - neg.current_of(gn, u)
                                : pos.current_of(gp, u) + neg.current_of(gn, -u);
      y += sgn * scale * i_pair;
    }
  }
  return y / (v * t.weight_unit_uS());
}

// Largest |tile - reference| over a batch.
double max_error(mt::TileCore& t, mt::Direction dir, bool bit_serial, std::uint64_t seed) {
  const int n_in = dir == mt::Direction::forward ? kR : kC;
  const int n_out = dir == mt::Direction::forward ? kC : kR;
  const std::vector<float> x = random_drives(n_in, seed);
  std::vector<float> y(static_cast<std::size_t>(n_out * kBatch));
  t.mvm_batch(dir, x.data(), kBatch, y.data(), 0.0,
              bit_serial ? mt::Encoding::bit_serial : mt::Encoding::amplitude, true);
  double worst = 0;
  for (int v = 0; v < kBatch; ++v) {
    for (int j = 0; j < n_out; ++j) {
      const double ref = reference(t, dir, x.data() + v * n_in, j, bit_serial);
      worst = std::max(worst, std::abs(static_cast<double>(y[v * n_out + j]) - ref));
    }
  }
  return worst;
}

// Tolerance: two phases, each converted by the ADC (error <= step / 2; bit-serial: the
// pulses' errors weighted 2^b / 255 sum to <= step / 2 too), plus float rounding of the
// products (3 terms per driven line, |term| <= 1.5, relative 2^-23 per operation over at
// most 48 accumulations: 3 x 48 x 1.5 x 48 x 2^-23 < 1.3e-3).
double tolerance(mt::TileCore& t, mt::Direction dir) { return t.adc_step(dir) + 1.3e-3; }

}  // namespace

TEST(TileIv, CoefficientsInterpolateInLogG) {
  const md::DeviceParams dp = iv_device(0.2, 1.5, 4.0);
  const double gm = std::sqrt(dp.g_min_uS * dp.g_max_uS);
  EXPECT_DOUBLE_EQ(md::iv_coeffs(dp, dp.g_max_uS).a3, 1.5);
  EXPECT_DOUBLE_EQ(md::iv_coeffs(dp, dp.g_min_uS).a3, 6.0);
  EXPECT_NEAR(md::iv_coeffs(dp, gm).a3, 1.5 * 2.5, 1e-12);  // halfway in log G
  EXPECT_NEAR(md::iv_coeffs(dp, gm).a2, 0.2 * 2.5, 1e-12);
  EXPECT_DOUBLE_EQ(md::iv_coeffs(dp, 1.0).a3, 6.0);     // clamped below g_min
  EXPECT_DOUBLE_EQ(md::iv_coeffs(dp, 1000.0).a3, 1.5);  // and above g_max
}

TEST(TileIv, MvmMatchesPerCellReference) {
  for (const char* enc : {"amplitude", "bit_serial"}) {
    const bool bs = std::strcmp(enc, "bit_serial") == 0;
    mt::TileCore on(iv_tile(enc), iv_device(0.5, 2.0, 4.0), 5, "iv_on");
    ASSERT_TRUE(on.iv_nonlinear());
    program_random(on, 1);
    mt::TileCore off(iv_tile(enc), iv_device(0.0, 0.0, 4.0), 5, "iv_off");
    program_random(off, 1);
    for (const auto dir : {mt::Direction::forward, mt::Direction::transpose}) {
      const double tol = tolerance(on, dir);
      const double err = max_error(on, dir, bs, 7);
      EXPECT_LE(err, tol) << enc << (dir == mt::Direction::forward ? " forward" : " transpose");
      const std::size_t n_in = dir == mt::Direction::forward ? kR : kC;
      const std::size_t n_out = dir == mt::Direction::forward ? kC : kR;
      const std::vector<float> x = random_drives(static_cast<int>(n_in), 7);
      std::vector<float> y_on(n_out * kBatch), y_off(n_out * kBatch);
      const auto e = bs ? mt::Encoding::bit_serial : mt::Encoding::amplitude;
      on.mvm_batch(dir, x.data(), kBatch, y_on.data(), 0.0, e, true);
      off.mvm_batch(dir, x.data(), kBatch, y_off.data(), 0.0, e, true);
      double effect = 0;
      for (std::size_t k = 0; k < y_on.size(); ++k) {
        effect = std::max(effect, std::abs(static_cast<double>(y_on[k] - y_off[k])));
      }
      // The check can fail: the nonlinearity moves the outputs by far more than that.
      std::printf("%s %s: largest |error| %.2e (tolerance %.2e), nonlinear effect %.3f\n", enc,
                  dir == mt::Direction::forward ? "forward" : "transpose", err, tol, effect);
      EXPECT_GT(effect, 20 * tol);
    }
  }
}

// With G-independent coefficients every cell has the same pulse gain g = 1 + a2 v + a3 v^2:
// bit-serial outputs are the linear ones times g (within the ADC steps of both), while
// amplitude reads at lower voltages see a smaller gain: a distortion.
TEST(TileIv, BitSerialSeesOnlyAGain) {
  const double a2 = 0.5, a3 = 2.0, v = 0.2;
  const double g = 1.0 + a2 * v + a3 * v * v;
  double worst[2] = {0, 0};
  double bound = 0;
  for (const char* enc : {"bit_serial", "amplitude"}) {
    const bool bs = std::strcmp(enc, "bit_serial") == 0;
    mt::TileCore on(iv_tile(enc), iv_device(a2, a3, 1.0), 5, "iv_on");
    mt::TileCore off(iv_tile(enc), iv_device(0.0, 0.0, 1.0), 5, "iv_off");
    program_random(on, 3);
    program_random(off, 3);
    const std::vector<float> x = random_drives(kR, 9);
    std::vector<float> y_on(kC * kBatch), y_off(kC * kBatch);
    on.forward_batch(x.data(), kBatch, y_on.data(), 0.0, true);
    off.forward_batch(x.data(), kBatch, y_off.data(), 0.0, true);
    for (std::size_t k = 0; k < y_on.size(); ++k) {
      worst[bs ? 0 : 1] = std::max(worst[bs ? 0 : 1], std::abs(static_cast<double>(y_on[k]) -
                                                               g * static_cast<double>(y_off[k])));
    }
    bound = (1.0 + g) * on.adc_step(mt::Direction::forward) + 1.3e-3;
  }
  std::printf("|y_nl - g y_lin|: bit-serial %.2e, amplitude %.3f (bound %.2e)\n", worst[0],
              worst[1], bound);
  EXPECT_LE(worst[0], bound);
  EXPECT_GT(worst[1], 20 * bound);
}

TEST(TileIv, OffIsBitIdentical) {
  // Coefficients 0 (whatever nl_hrs_factor says): the linear tile, bit for bit.
  for (const char* enc : {"amplitude", "bit_serial"}) {
    mt::TileCore base(iv_tile(enc), md::DeviceParams{}, 5, "t");
    md::DeviceParams dp;
    dp.nl_hrs_factor = 7.0;
    mt::TileCore zero(iv_tile(enc), dp, 5, "t");
    EXPECT_FALSE(zero.iv_nonlinear());
    program_random(base, 2);
    program_random(zero, 2);
    for (const auto dir : {mt::Direction::forward, mt::Direction::transpose}) {
      const int n_in = dir == mt::Direction::forward ? kR : kC;
      const int n_out = dir == mt::Direction::forward ? kC : kR;
      const std::vector<float> x = random_drives(n_in, 4);
      std::vector<float> a(static_cast<std::size_t>(n_out * kBatch)), b(a.size());
      const auto e =
          std::strcmp(enc, "bit_serial") == 0 ? mt::Encoding::bit_serial : mt::Encoding::amplitude;
      base.mvm_batch(dir, x.data(), kBatch, a.data(), 0.0, e, true);
      zero.mvm_batch(dir, x.data(), kBatch, b.data(), 0.0, e, true);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << enc;
    }
  }
}

TEST(TileIv, ReferenceColumnMappingRejected) {
  mt::TileParams p = iv_tile("amplitude");
  p.mapping = "reference_column";
  EXPECT_THROW(mt::TileCore(p, iv_device(0.0, 1.0, 1.0), 5, "t"), memplast::cfg::ConfigError);
}
