// Crossbar tile core: MVM against an exact double-precision reference built from the
// programmed conductances, the aggregate read-noise statistics, ADC quantization and
// clipping, encodings, determinism, cost formulas, and the layer-to-tile mapping.
#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "common/isa.hpp"
#include "tile/mapping.hpp"
#include "tile/normal.hpp"
#include "tile/tile_core.hpp"
#include "tile/tile_gemm.hpp"

namespace mt = memplast::tile;
namespace md = memplast::device;

namespace {

md::DeviceParams device_params() {
  md::DeviceParams dp;  // struct defaults are the device owner's paper defaults
  return dp;
}

std::vector<int> random_levels(int n, int levels, std::uint64_t seed) {
  memplast::Rng rng(seed);
  std::vector<int> v(static_cast<std::size_t>(n));
  for (auto& l : v) l = static_cast<int>(rng.below(static_cast<std::uint64_t>(levels)));
  return v;
}

std::vector<float> random_inputs(int n, std::uint64_t seed, float lo = 0.0F) {
  memplast::Rng rng(seed);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<float>(rng.uniform(lo, 1.0));
  return v;
}

// Exact forward reference from the devices themselves: y_j = sum_i x_i w_ij with
// w_ij = (G+ - G-)/unit (differential) or (G - G_ref,i)/unit (reference column), and the
// predicted variance sum_i x_i^2 (sigma+^2 + sigma-^2 [or sigma_ref,i^2]) / unit^2.
void exact_forward(const mt::TileCore& t, const std::vector<float>& x, double t_s,
                   std::vector<double>& y, std::vector<double>& var, double* shared_var = nullptr) {
  const int R = t.rows();
  const int C = t.cols();
  const double unit = t.weight_unit_uS();
  y.assign(static_cast<std::size_t>(C), 0.0);
  var.assign(static_cast<std::size_t>(C), 0.0);
  const auto& pos = t.array(mt::Side::pos);
  for (int r = 0; r < R; ++r) {
    const double xi = x[static_cast<std::size_t>(r)];
    double g_sub = 0;
    double s_sub2 = 0;
    if (t.mapping() == mt::Mapping::reference_column) {
      const auto& ref = t.array(mt::Side::ref);
      g_sub = ref.conductance(static_cast<std::size_t>(r), t_s);
      s_sub2 = std::pow(ref.read_sigma(g_sub), 2);
    }
    for (int c = 0; c < C; ++c) {
      const std::size_t i = t.cell_index(r, c);
      const double gp = pos.conductance(i, t_s);
      double w = 0;
      double s2 = std::pow(pos.read_sigma(gp), 2);
      if (t.mapping() == mt::Mapping::differential) {
        const auto& neg = t.array(mt::Side::neg);
        const double gn = neg.conductance(i, t_s);
        w = (gp - gn) / unit;
        s2 += std::pow(neg.read_sigma(gn), 2);
      } else {
        w = (gp - g_sub) / unit;
      }
      y[static_cast<std::size_t>(c)] += xi * w;
      var[static_cast<std::size_t>(c)] += xi * xi * s2 / (unit * unit);
    }
    if (t.mapping() == mt::Mapping::reference_column) {
      for (int c = 0; c < C; ++c)
        var[static_cast<std::size_t>(c)] += xi * xi * s_sub2 / (unit * unit);
      if (shared_var != nullptr) *shared_var += xi * xi * s_sub2 / (unit * unit);
    }
  }
}

mt::TileParams ideal_params() {
  mt::TileParams p;
  p.ideal_converters = true;
  p.read_noise = false;
  return p;
}

// Y (batch x n_out, row-major per vector) against the exact product with ternary levels
// lv (rows x cols, level - 1 = weight): forward Y = X W, transposed Y = X W^T.
void expect_ternary_product(const std::vector<int>& lv, int rows, int cols, int batch,
                            const std::vector<float>& X, const std::vector<float>& Y,
                            bool transposed) {
  const int n_in = transposed ? cols : rows;
  const int n_out = transposed ? rows : cols;
  for (int v = 0; v < batch; ++v) {
    for (int o = 0; o < n_out; ++o) {
      double e = 0;
      for (int i = 0; i < n_in; ++i) {
        const int r = transposed ? o : i;
        const int c = transposed ? i : o;
        e += (lv[static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(c)] - 1) *
             static_cast<double>(
                 X[static_cast<std::size_t>(v) * n_in + static_cast<std::size_t>(i)]);
      }
      ASSERT_NEAR(Y[static_cast<std::size_t>(v) * n_out + static_cast<std::size_t>(o)], e, 1e-3)
          << (transposed ? "transposed " : "forward ") << v << "," << o;
    }
  }
}
}  // namespace

TEST(TileLevels, TargetsFollowTheDocumentedMapping) {
  mt::TileParams p;
  mt::TileCore t(p, device_params(), 1, "tile0");
  ASSERT_EQ(t.levels(), 3);
  EXPECT_DOUBLE_EQ(t.level_value(0), -1.0);
  EXPECT_DOUBLE_EQ(t.level_value(1), 0.0);
  EXPECT_DOUBLE_EQ(t.level_value(2), 1.0);
  const auto [gp0, gn0] = t.target_conductances(0);
  EXPECT_DOUBLE_EQ(gp0, p.g_off_uS);
  EXPECT_DOUBLE_EQ(gn0, p.g_on_uS);
  const auto [gp1, gn1] = t.target_conductances(1);
  EXPECT_DOUBLE_EQ(gp1, p.g_off_uS);
  EXPECT_DOUBLE_EQ(gn1, p.g_off_uS);
  const auto [gp2, gn2] = t.target_conductances(2);
  EXPECT_DOUBLE_EQ(gp2, p.g_on_uS);
  EXPECT_DOUBLE_EQ(gn2, p.g_off_uS);
  EXPECT_THROW((void)t.level_value(3), std::out_of_range);

  p.mapping = "reference_column";
  p.levels = 5;
  mt::TileCore r(p, device_params(), 1, "tile1");
  const double g_ref = 0.5 * (p.g_on_uS + p.g_off_uS);
  EXPECT_DOUBLE_EQ(r.target_conductances(2).first, g_ref);
  EXPECT_DOUBLE_EQ(r.target_conductances(3).first, g_ref + 0.25 * (p.g_on_uS - p.g_off_uS));
  EXPECT_DOUBLE_EQ(r.target_conductances(0).second, g_ref);
  p.mapping = "bogus";
  EXPECT_THROW(mt::TileCore(p, device_params(), 1, "tile2"), memplast::cfg::ConfigError);
}

// The aggregate read noise: standardized errors z_j = (y_j - y_exact,j) / sqrt(var_pred,j)
// pooled over C columns and N vectors must have mean 0 and variance 1. Within a vector
// the columns are correlated when they share a reference column: corr(z_j, z_l) =
// rho_jl = var_ref / sqrt(var_j var_l) (0 for differential pairs). For jointly normal z,
// Var(mean z) = sum_jl rho_jl / (N C^2) and Var(mean z^2) = 2 sum_jl rho_jl^2 / (N C^2);
// with rho = 0 these are the familiar 1/M and 2/M (M = N C). We allow 5 sd.
// Per column (N independent samples), the variance ratio has sd sqrt(2/N); over C
// columns a 5.5 sd bound keeps the family-wise false-alarm rate below 128 * 4e-8.
// N = 20000 resolves a 5 % error in the noise sigma in either mapping.
class TileNoise : public ::testing::TestWithParam<const char*> {};

TEST_P(TileNoise, ErrorMeanAndSpreadMatchPredictedVariance) {
  mt::TileParams p;
  p.mapping = GetParam();
  p.ideal_converters = true;  // isolate the noise model from quantization
  p.read_noise = true;
  mt::TileCore t(p, device_params(), 7, "tile0");
  const int R = t.rows();
  const int C = t.cols();
  const auto lv = random_levels(R * C, t.levels(), 11);
  t.program_ideal_all(lv.data(), 0.0);
  const auto x = random_inputs(R, 12);
  std::vector<double> y_ref;
  std::vector<double> var;
  double shared = 0;
  exact_forward(t, x, 0.0, y_ref, var, &shared);
  double sum_rho = 0;
  double sum_rho2 = 0;
  for (int j = 0; j < C; ++j) {
    for (int l = 0; l < C; ++l) {
      const double rho = j == l ? 1.0
                                : shared / std::sqrt(var[static_cast<std::size_t>(j)] *
                                                     var[static_cast<std::size_t>(l)]);
      sum_rho += rho;
      sum_rho2 += rho * rho;
    }
  }

  const int N = 20000;
  std::vector<float> X(static_cast<std::size_t>(R) * N);
  for (int v = 0; v < N; ++v)
    std::copy(x.begin(), x.end(), X.begin() + static_cast<std::ptrdiff_t>(v) * R);
  std::vector<float> Y(static_cast<std::size_t>(C) * N);
  t.forward_batch(X.data(), N, Y.data(), 0.0);

  double sum = 0;
  double sum2 = 0;
  std::vector<double> col2(static_cast<std::size_t>(C), 0.0);
  for (int v = 0; v < N; ++v) {
    for (int c = 0; c < C; ++c) {
      const auto j = static_cast<std::size_t>(c);
      const double z = (static_cast<double>(Y[static_cast<std::size_t>(v) * C + j]) - y_ref[j]) /
                       std::sqrt(var[j]);
      sum += z;
      sum2 += z * z;
      col2[j] += z * z;
    }
  }
  const double M = static_cast<double>(C) * N;
  const double mean = sum / M;
  const double v2 = sum2 / M - mean * mean;
  const double NC2 = static_cast<double>(N) * C * C;
  EXPECT_LT(std::abs(mean), 5.0 * std::sqrt(sum_rho / NC2)) << "mean of standardized error";
  EXPECT_LT(std::abs(v2 - 1.0), 5.0 * std::sqrt(2.0 * sum_rho2 / NC2))
      << "variance of standardized error";
  for (int c = 0; c < C; ++c) {
    EXPECT_LT(std::abs(col2[static_cast<std::size_t>(c)] / N - 1.0), 5.5 * std::sqrt(2.0 / N))
        << "column " << c;
  }
  if (t.mapping() == mt::Mapping::reference_column) {
    // The reference column's noise is one draw per vector shared by every column: the
    // difference of two columns' errors cancels it, Var(e_0 - e_1) = var_0 + var_1 -
    // 2 var_ref, while their covariance is var_ref. Both estimated from N independent
    // vectors: the variance ratio has sd sqrt(2/N); the sample correlation sd is at most
    // (1 + rho^2)/sqrt(N) (< 2/sqrt(N)). 5 sd each.
    double sd2 = 0;
    double s01 = 0;
    for (int v = 0; v < N; ++v) {
      const double e0 = static_cast<double>(Y[static_cast<std::size_t>(v) * C]) - y_ref[0];
      const double e1 = static_cast<double>(Y[static_cast<std::size_t>(v) * C + 1]) - y_ref[1];
      sd2 += (e0 - e1) * (e0 - e1);
      s01 += e0 * e1;
    }
    const double pred_diff = var[0] + var[1] - 2 * shared;
    EXPECT_LT(std::abs(sd2 / N / pred_diff - 1.0), 5.0 * std::sqrt(2.0 / N));
    const double rho_pred = shared / std::sqrt(var[0] * var[1]);
    const double rho = s01 / N / std::sqrt(var[0] * var[1]);
    EXPECT_LT(std::abs(rho - rho_pred), 5.0 * 2.0 / std::sqrt(static_cast<double>(N)));
  }
}

INSTANTIATE_TEST_SUITE_P(Mappings, TileNoise,
                         ::testing::Values("differential", "reference_column"));

TEST(TileMvm, NoiselessForwardAndTransposeMatchExactReference) {
  for (const char* m : {"differential", "reference_column"}) {
    mt::TileParams p = ideal_params();
    p.mapping = m;
    mt::TileCore t(p, device_params(), 3, "tile0");
    const int R = t.rows();
    const int C = t.cols();
    const auto lv = random_levels(R * C, t.levels(), 5);
    t.program_ideal_all(lv.data(), 0.0);
    const auto x = random_inputs(R, 6);
    std::vector<double> y_ref;
    std::vector<double> var;
    exact_forward(t, x, 0.0, y_ref, var);
    std::vector<float> y(static_cast<std::size_t>(C));
    t.forward_batch(x.data(), 1, y.data(), 0.0);
    for (int c = 0; c < C; ++c)
      EXPECT_NEAR(y[static_cast<std::size_t>(c)], y_ref[static_cast<std::size_t>(c)], 1e-4) << m;

    // Transpose (signed inputs, two phases): y_r = sum_c w_rc x_c with the level values.
    const auto xt = random_inputs(C, 8, -1.0F);
    std::vector<float> yt(static_cast<std::size_t>(R));
    t.transpose_batch(xt.data(), 1, yt.data(), 0.0, true);
    for (int r = 0; r < R; ++r) {
      double e = 0;
      for (int c = 0; c < C; ++c)
        e += t.level_value(lv[t.cell_index(r, c)]) *
             static_cast<double>(xt[static_cast<std::size_t>(c)]);
      EXPECT_NEAR(yt[static_cast<std::size_t>(r)], e, 1e-4) << m << " row " << r;
    }
  }
}

// ADC: full scale = fraction * R = 0.25 * 128 = 32, step = 32 / 2^7 = 0.25, codes in
// [-128, 127]. Column c holds k = c - 64 weights of sign(k) in its first |k| rows, so
// with inputs 77/255 (exact DAC level) y_c = k * 77/255; none sits on a rounding tie.
TEST(TileAdc, QuantizationStepAndClipping) {
  mt::TileParams p;
  p.read_noise = false;
  mt::TileCore t(p, device_params(), 1, "tile0");
  const int R = t.rows();
  const int C = t.cols();
  ASSERT_DOUBLE_EQ(t.adc_full_scale(mt::Direction::forward), 32.0);
  ASSERT_DOUBLE_EQ(t.adc_step(mt::Direction::forward), 0.25);
  for (int c = 0; c < C; ++c) {
    const int k = c - 64;
    for (int r = 0; r < std::abs(k); ++r) t.program_ideal(r, c, k > 0 ? 2 : 0, 0.0);
  }
  for (const double xin : {77.0 / 255.0, 1.0}) {
    std::vector<float> x(static_cast<std::size_t>(R), static_cast<float>(xin));
    std::vector<float> y(static_cast<std::size_t>(C));
    t.forward_batch(x.data(), 1, y.data(), 0.0);
    const auto& codes = t.last_codes();
    ASSERT_EQ(codes.size(), static_cast<std::size_t>(C));
    for (int c = 0; c < C; ++c) {
      const double exact = (c - 64) * xin;
      const double code = std::clamp(std::floor(exact / 0.25 + 0.5), -128.0, 127.0);
      EXPECT_EQ(codes[static_cast<std::size_t>(c)], static_cast<int>(code))
          << "column " << c << " x " << xin;
      EXPECT_FLOAT_EQ(y[static_cast<std::size_t>(c)], static_cast<float>(code * 0.25));
      if (std::abs(exact) < 31.75) {
        EXPECT_LE(std::abs(static_cast<double>(y[static_cast<std::size_t>(c)]) - exact),
                  0.125 + 1e-6);
      }
    }
    if (xin == 1.0) {
      EXPECT_EQ(codes[0], -128);          // clipped low: exact -64
      EXPECT_FLOAT_EQ(y[C - 1], 31.75F);  // clipped high: exact 63
      EXPECT_EQ(codes[64 + 31], 124);     // 31 -> not clipped
    }
  }
  // Recalibration from the programmed weights: largest column sum of |w| is 64.
  t.calibrate_adc_from_weights(0.0);
  EXPECT_DOUBLE_EQ(t.adc_full_scale(mt::Direction::forward), 0.25 * 64);
}

// Without noise, bit-serial (8 pulses, shift-and-add) and amplitude (one read) see the
// same DAC-quantized inputs; each is within half an ADC step of the exact value (the
// bit-serial errors add up to at most sum_b 2^b/255 * step/2 = step/2), so they agree
// within one step. Full scale = R (fraction 1) so that no bit plane clips.
TEST(TileEncoding, BitSerialAndAmplitudeAgreeWithoutNoise) {
  for (const bool sgn : {false, true}) {
    mt::TileParams p;
    p.read_noise = false;
    p.adc_range_fraction = 1.0;
    p.adc_bits = 12;
    mt::TileCore t(p, device_params(), 1, "tile0");
    const int R = t.rows();
    const int C = t.cols();
    const auto lv = random_levels(R * C, t.levels(), 21);
    t.program_ideal_all(lv.data(), 0.0);
    const auto x = random_inputs(R, 22, sgn ? -1.0F : 0.0F);
    std::vector<float> ya(static_cast<std::size_t>(C));
    std::vector<float> yb(static_cast<std::size_t>(C));
    t.mvm_batch(mt::Direction::forward, x.data(), 1, ya.data(), 0.0, mt::Encoding::amplitude, sgn);
    t.mvm_batch(mt::Direction::forward, x.data(), 1, yb.data(), 0.0, mt::Encoding::bit_serial, sgn);
    EXPECT_EQ(t.last_codes().size(), static_cast<std::size_t>(C) * 8U * (sgn ? 2U : 1U));
    const double step = t.adc_step(mt::Direction::forward);
    const double phases = sgn ? 2.0 : 1.0;
    for (int c = 0; c < C; ++c) {
      double exact = 0;  // with DAC-quantized inputs
      for (int r = 0; r < R; ++r) {
        const double q =
            std::nearbyint(std::abs(static_cast<double>(x[static_cast<std::size_t>(r)])) * 255.0) /
            255.0;
        exact +=
            (x[static_cast<std::size_t>(r)] < 0 ? -q : q) * t.level_value(lv[t.cell_index(r, c)]);
      }
      const auto j = static_cast<std::size_t>(c);
      EXPECT_LE(std::abs(static_cast<double>(ya[j]) - exact), phases * step / 2 + 1e-4) << c;
      EXPECT_LE(std::abs(static_cast<double>(yb[j]) - exact), phases * step / 2 + 1e-4) << c;
      EXPECT_LE(std::abs(ya[j] - yb[j]), phases * step + 1e-4) << c;
    }
  }
}

TEST(TileDeterminism, SameSeedIdenticalDifferentSeedDifferent) {
  auto run = [](std::uint64_t seed) {
    mt::TileParams p;  // noise and ADC on
    p.adc_bits = 12;
    mt::TileCore t(p, device_params(), seed, "tile0");
    const auto lv = random_levels(t.rows() * t.cols(), t.levels(), 31);
    t.program_ideal_all(lv.data(), 0.0);
    const auto X = random_inputs(t.rows() * 10, 32);
    std::vector<float> Y(static_cast<std::size_t>(t.cols()) * 10);
    t.forward_batch(X.data(), 10, Y.data(), 0.0);
    return Y;
  };
  const auto a = run(1);
  const auto b = run(1);
  const auto c = run(2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(TileMvm, EachVectorOfABatchGetsItsOwnNoiseDraw) {
  mt::TileParams p;
  p.ideal_converters = true;
  mt::TileCore t(p, device_params(), 1, "tile0");
  const auto x = random_inputs(t.rows(), 41);
  std::vector<float> X(x);
  X.insert(X.end(), x.begin(), x.end());
  std::vector<float> Y(static_cast<std::size_t>(t.cols()) * 2);
  t.forward_batch(X.data(), 2, Y.data(), 0.0);
  int differ = 0;
  for (int c = 0; c < t.cols(); ++c)
    differ += Y[static_cast<std::size_t>(c)] != Y[static_cast<std::size_t>(c + t.cols())] ? 1 : 0;
  EXPECT_EQ(differ, t.cols());
}

// Latency: reads * (t_dac + t_settle + ceil(n_out / n_adc) * (bits + 2) / f_adc).
// Defaults: 1 + 10 ns, (8 + 2) / 200 MHz = 50 ns per conversion.
TEST(TileCost, LatencyAndEnergyFormulas) {
  mt::TileParams p;
  p.cols_per_adc = 1;
  mt::TileCore t1(p, device_params(), 1, "tile0");
  EXPECT_NEAR(t1.mvm_cost(mt::Direction::forward, 1, mt::Encoding::amplitude, false).latency_s,
              61e-9, 1e-15);
  p.cols_per_adc = 8;
  mt::TileCore t8(p, device_params(), 1, "tile1");
  const auto c1 = t8.mvm_cost(mt::Direction::forward, 1, mt::Encoding::amplitude, false);
  EXPECT_NEAR(c1.latency_s, 411e-9, 1e-15);
  EXPECT_NEAR(t8.mvm_cost(mt::Direction::forward, 100, mt::Encoding::amplitude, false).latency_s,
              100 * 411e-9, 1e-12);
  EXPECT_NEAR(t8.mvm_cost(mt::Direction::forward, 1, mt::Encoding::bit_serial, true).latency_s,
              16 * 411e-9, 1e-14);
  EXPECT_EQ(c1.conversions, 128U);
  EXPECT_NEAR(c1.energy_J[static_cast<std::size_t>(mt::Phase::adc)], 128 * 50e-15 * 256, 1e-18);
  EXPECT_NEAR(c1.energy_J[static_cast<std::size_t>(mt::Phase::row)], 128 * 0.5e-12, 1e-20);
  EXPECT_NEAR(c1.energy_J[static_cast<std::size_t>(mt::Phase::dac)], 128 * 8 * 16e-15, 1e-20);
  // Array: V^2 * sum(G) * t_settle; the initial state is every device at g_off.
  EXPECT_NEAR(c1.energy_J[static_cast<std::size_t>(mt::Phase::array)],
              0.04 * (2 * 128 * 128 * 5e-6) * 10e-9, 1e-16);
  // ADC energy scales as 2^bits.
  p.adc_bits = 4;
  mt::TileCore t4(p, device_params(), 1, "tile2");
  EXPECT_NEAR(t4.mvm_cost(mt::Direction::forward, 1, mt::Encoding::amplitude, false)
                  .energy_J[static_cast<std::size_t>(mt::Phase::adc)],
              128 * 50e-15 * 16, 1e-18);
  EXPECT_NEAR(t4.verify_cost().latency_s, 11e-9 + 6 / 200e6, 1e-15);
  EXPECT_NEAR(t4.pulse_cost().latency_s, 100e-9, 1e-15);
}

TEST(TileCache, PulsesAndRelaxationReachTheWeightMatrix) {
  mt::TileParams p;
  p.relax_refresh_s = 10.0;
  mt::TileCore t(p, device_params(), 1, "tile0");
  const auto n0 = t.full_refreshes();
  const float w0 = t.weights(0.0)(3, 4);
  t.pulse_set(3, 4, mt::Side::pos, 1.2, 1.0);  // a SET pulse raises G+
  const auto& pos = t.array(mt::Side::pos);
  const auto& neg = t.array(mt::Side::neg);
  const std::size_t i = t.cell_index(3, 4);
  const double expect = (pos.conductance(i, 1.0) - neg.conductance(i, 1.0)) / t.weight_unit_uS();
  EXPECT_NE(w0, t.weights(1.0)(3, 4));
  EXPECT_NEAR(t.weights(1.0)(3, 4), expect, 1e-5);
  EXPECT_EQ(t.full_refreshes(), n0);  // one dirty cell: incremental update
  (void)t.weights(100.0);             // more than relax_refresh_s later: full refresh
  EXPECT_EQ(t.full_refreshes(), n0 + 1);
  EXPECT_NEAR(t.weights(100.0)(3, 4),
              (pos.conductance(i, 100.0) - neg.conductance(i, 100.0)) / t.weight_unit_uS(), 1e-5);
}

TEST(TileGrid, Maps784x1024OntoTilesAndMatchesFloatProduct) {
  mt::TileParams p = ideal_params();
  const int rows = 784;
  const int cols = 1024;
  mt::TileGrid g(rows, cols, p, device_params(), 1, "fc1");
  EXPECT_EQ(g.placement().row_blocks, 7);
  EXPECT_EQ(g.placement().col_blocks, 8);
  EXPECT_EQ(g.n_tiles(), 56);
  const auto loc = g.locate(700, 1000);
  EXPECT_EQ(loc.tile, 5 * 8 + 7);
  EXPECT_EQ(loc.row, 700 - 640);
  EXPECT_EQ(loc.col, 1000 - 896);
  const auto& last = g.placement().blocks.back();
  EXPECT_EQ(last.n_rows, 784 - 768);
  EXPECT_EQ(last.n_cols, 128);
  EXPECT_NE(
      g.placement().to_string().find("tile 55: block (6, 7) rows [768, 784) cols [896, 1024)"),
      std::string::npos);

  const auto lv = random_levels(rows * cols, 3, 51);
  g.program_ideal_all(lv, 0.0);
  const int batch = 3;
  const auto X = random_inputs(rows * batch, 52);
  std::vector<float> Y(static_cast<std::size_t>(cols) * batch);
  g.forward_batch(X.data(), batch, Y.data(), 0.0);
  expect_ternary_product(lv, rows, cols, batch, X, Y, false);
  const auto Xt = random_inputs(cols * batch, 53, -1.0F);
  std::vector<float> Yt(static_cast<std::size_t>(rows) * batch);
  g.transpose_batch(Xt.data(), batch, Yt.data(), 0.0);
  expect_ternary_product(lv, rows, cols, batch, Xt, Yt, true);
}

// The ziggurat normal (fast float path and full path): N = 1e6 draws. Bounds (5 sd):
// mean sd 1/sqrt(N); variance sd sqrt(2/N); fourth moment (3 for a normal) sd
// sqrt((105 - 9)/N); tail fractions p = P(|z| > 2) = 0.0455 and P(|z| > 3.5) =
// 4.65e-4 with binomial sd sqrt(p(1-p)/N).
TEST(TileNormal, ZigguratMomentsAndTails) {
  const auto& zn = mt::ZigguratNormal::table();
  memplast::Rng rng(99);
  const int N = 1000000;
  std::vector<float> z(static_cast<std::size_t>(N));
  zn.fill(rng, z.data(), N / 2);
  for (int i = N / 2; i < N; ++i) z[static_cast<std::size_t>(i)] = static_cast<float>(zn(rng));
  double m1 = 0, m2 = 0, m4 = 0, t2 = 0, t35 = 0;
  for (float f : z) {
    const auto v = static_cast<double>(f);
    m1 += v;
    m2 += v * v;
    m4 += v * v * v * v;
    t2 += std::abs(v) > 2.0 ? 1 : 0;
    t35 += std::abs(v) > 3.5 ? 1 : 0;
  }
  m1 /= N;
  m2 /= N;
  m4 /= N;
  EXPECT_LT(std::abs(m1), 5.0 / std::sqrt(N));
  EXPECT_LT(std::abs(m2 - 1.0), 5.0 * std::sqrt(2.0 / N));
  EXPECT_LT(std::abs(m4 - 3.0), 5.0 * std::sqrt(96.0 / N));
  const double p2 = 0.0455003;
  const double p35 = 4.65258e-4;
  EXPECT_LT(std::abs(t2 / N - p2), 5.0 * std::sqrt(p2 * (1 - p2) / N));
  EXPECT_LT(std::abs(t35 / N - p35), 5.0 * std::sqrt(p35 * (1 - p35) / N));
}

#if defined(__x86_64__) && defined(__GNUC__)
// The AVX2 and AVX-512 builds of the tile products (tile_gemm.hpp) against a double
// reference, for each of the four forms TileCore uses (W^T X, W X, and both on X^2), on
// shapes that are not multiples of the vector widths, with the full depth and with a
// shorter one (the input lines past it hold values the product must ignore); and each is
// deterministic.
TEST(TileGemm, SimdProductsMatchDoubleReference) {
  memplast::Rng rng(5, "test.tile.gemm");
  const int ar = 37;
  const int ac = 29;
  const int k = 23;
  std::vector<float> a(static_cast<std::size_t>(ar * ac));
  for (auto& v : a) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  using Fn = void (*)(const float*, int, int, bool, int, const float*, int, int, bool, float*);
  struct Path {
    memplast::Isa isa;
    Fn fn;
  };
  int paths = 0;
  for (const Path& path : {Path{memplast::Isa::avx2, memplast::tile::gemm::product_avx2},
                           Path{memplast::Isa::avx512, memplast::tile::gemm::product_avx512}}) {
    if (!memplast::cpu_supports(path.isa)) continue;
    ++paths;
    for (bool tr : {false, true}) {
      for (bool sq : {false, true}) {
        const int n_in = tr ? ar : ac;
        const int n_out = tr ? ac : ar;
        for (const int depth : {n_in, n_in - 13}) {
          std::vector<float> b(static_cast<std::size_t>(n_in * k));
          for (auto& v : b) v = static_cast<float>(rng.uniform(-1.0, 1.0));
          std::vector<float> c(static_cast<std::size_t>(n_out * k));
          std::vector<float> c2(c.size());
          path.fn(a.data(), ar, ac, tr, depth, b.data(), n_in, k, sq, c.data());
          path.fn(a.data(), ar, ac, tr, depth, b.data(), n_in, k, sq, c2.data());
          EXPECT_EQ(c, c2) << memplast::isa_name(path.isa);
          for (int j = 0; j < k; ++j) {
            for (int o = 0; o < n_out; ++o) {
              double ref = 0.0;
              double mag = 0.0;
              for (int i = 0; i < depth; ++i) {
                const double av = tr ? a[static_cast<std::size_t>(o * ar + i)]
                                     : a[static_cast<std::size_t>(i * ar + o)];
                double bv = b[static_cast<std::size_t>(j * n_in + i)];
                if (sq) bv *= bv;
                ref += av * bv;
                mag += std::fabs(av * bv);
              }
              // float accumulation of n_in terms: |error| <= n_in * 2^-24 * sum |terms| (loose).
              EXPECT_NEAR(c[static_cast<std::size_t>(j * n_out + o)], ref, n_in * 6e-8 * mag + 1e-7)
                  << memplast::isa_name(path.isa) << " tr=" << tr << " sq=" << sq
                  << " depth=" << depth << " (" << o << "," << j << ")";
            }
          }
        }
      }
    }
  }
  if (paths == 0) GTEST_SKIP() << "CPU has neither AVX2+FMA nor AVX-512";
}
#endif

// ADC offset/gain mismatch and its start-up trim: before the trim the codes of a noiseless
// MVM are several steps off the ideal codes; after it, within 1 LSB on every line, both
// directions; the trim's cost is its conversions.
TEST(TileAdcTrim, RecoversInjectedOffsetsAndGains) {
  mt::TileParams p;
  p.rows = 16;
  p.cols = 12;
  p.read_noise = false;
  p.adc_offset_sigma_lsb = 3.0;
  p.adc_gain_sigma = 0.05;
  mt::TileCore tile(p, device_params(), 77, "trim");
  const auto levels = random_levels(16 * 12, 3, 5);
  tile.program_ideal_all(levels.data(), 0.0);
  const auto& w = tile.weights(0.0);
  const double h = std::ldexp(1.0, static_cast<int>(p.adc_bits) - 1);
  auto worst_error = [&](mt::Direction dir) {
    const bool fwd = dir == mt::Direction::forward;
    const int n_in = fwd ? 16 : 12, n_out = fwd ? 12 : 16, batch = 40;
    memplast::Rng rng(9);
    std::vector<float> x(static_cast<std::size_t>(n_in * batch));
    for (auto& v : x) v = static_cast<float>(rng.below(256)) / 255.0F;  // exact DAC levels
    std::vector<float> y(static_cast<std::size_t>(n_out * batch));
    tile.mvm_batch(dir, x.data(), batch, y.data(), 0.0, mt::Encoding::amplitude, false);
    const double step = tile.adc_step(dir);
    double worst = 0;
    for (int v = 0; v < batch; ++v) {
      for (int j = 0; j < n_out; ++j) {
        double s = 0;
        for (int i = 0; i < n_in; ++i) {
          const double wi = fwd ? w(i, j) : w(j, i);
          s += static_cast<double>(x[static_cast<std::size_t>(v * n_in + i)]) * wi;
        }
        const double ideal = std::clamp(std::nearbyint(s / step), -h, h - 1);
        const double code = tile.last_codes()[static_cast<std::size_t>(v * n_out + j)];
        worst = std::max(worst, std::abs(code - ideal));
      }
    }
    return worst;
  };
  EXPECT_GT(worst_error(mt::Direction::forward), 2.0);
  EXPECT_GT(worst_error(mt::Direction::transpose), 2.0);
  EXPECT_GT(tile.adc_trim_residual_lsb(), 2.0);
  const mt::OpCost c = tile.calibrate_adc_trim();
  EXPECT_EQ(c.conversions, static_cast<std::uint64_t>(p.adc_trim_points * (16 + 12)));
  EXPECT_GT(c.latency_s, 0.0);
  EXPECT_GT(c.energy_total_J(), 0.0);
  EXPECT_LE(tile.adc_trim_residual_lsb(), 1.0);
  EXPECT_LE(worst_error(mt::Direction::forward), 1.0);
  EXPECT_LE(worst_error(mt::Direction::transpose), 1.0);
}

// Partly driven tiles (issue 16): the products skip the driven lines past the last
// non-zero drive. Two tiles from the same seed, one with the skip switched off, run the
// same batches (trailing input lines zero, a tail of every length 0..R-1 and of
// C-1..C-9 transposed; signed and unsigned, amplitude and bit-serial, both mappings) and
// must give bit-identical outputs and ADC codes, on whichever build of the products runs
// (MEMPLAST_TILE_ISA: the ctest variants force generic and avx2).
TEST(TileCore, ZeroTailInputsSkipExactly) {
  for (const char* mapping : {"differential", "reference_column"}) {
    for (const char* enc : {"amplitude", "bit_serial"}) {
      mt::TileParams p;
      p.mapping = mapping;
      p.encoding = enc;
      mt::TileCore a(p, device_params(), 21, "tile0");
      mt::TileCore b(p, device_params(), 21, "tile0");
      b.set_trim_inputs(false);
      const int R = a.rows();
      const int C = a.cols();
      const auto lv = random_levels(R * C, a.levels(), 22);
      a.program_ideal_all(lv.data(), 0.0);
      b.program_ideal_all(lv.data(), 0.0);
      const int batch = 7;
      int checked = 0;
      for (const bool fwd : {true, false}) {
        const int n_in = fwd ? R : C;
        const int n_out = fwd ? C : R;
        for (int used = 1; used <= n_in; used += fwd ? 9 : 5) {
          auto x = random_inputs(n_in * batch, 100 + static_cast<std::uint64_t>(used),
                                 fwd ? 0.0F : -1.0F);
          for (int v = 0; v < batch; ++v) {
            for (int i = used; i < n_in; ++i) x[static_cast<std::size_t>(v * n_in + i)] = 0.0F;
          }
          std::vector<float> ya(static_cast<std::size_t>(n_out * batch));
          std::vector<float> yb(ya.size());
          const double t = 1e-3 * used;
          if (fwd) {
            a.forward_batch(x.data(), batch, ya.data(), t, false);
            b.forward_batch(x.data(), batch, yb.data(), t, false);
          } else {
            a.transpose_batch(x.data(), batch, ya.data(), t, true);
            b.transpose_batch(x.data(), batch, yb.data(), t, true);
          }
          ASSERT_EQ(ya, yb) << mapping << " " << enc << " fwd=" << fwd << " used=" << used;
          ASSERT_EQ(a.last_codes(), b.last_codes())
              << mapping << " " << enc << " fwd=" << fwd << " used=" << used;
          ++checked;
        }
      }
      EXPECT_GT(checked, 40);
    }
  }
}
