// The IR-drop error figure of docs/tile.md, shared by tb/unit/test_ir_drop.cpp (the stated
// bounds) and tb/bench/ir_drop_table.cpp (the table): a random ternary differential array
// of n x n weights (G+ at physical column 2c, G- at 2c+1, g_off 5 uS, g_on 200 uS, weight
// unit 195 uS) and 16 random inputs in [0, 1] per direction (forward, transpose).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/rng.hpp"
#include "tile/ir_drop.hpp"

namespace memplast::test {

struct IrErrorFigure {
  double approx_err{0};  // largest |y_approx - y_exact| (weight units)
  double effect{0};      // largest |y_exact - y_ideal|: the IR drop itself (weight units)
  double t_exact_s{0};   // time of the exact solver, both directions
  double t_approx_s{0};  // time of the approximation, both directions
};

inline IrErrorFigure measure_ir_error(int n, const tile::ir::Wires& w, std::uint64_t seed) {
  namespace ir = tile::ir;
  using clock = std::chrono::steady_clock;
  const int R = n, C = n, P = 2 * n;
  const double U = 195.0;
  Rng rng(seed);
  std::vector<double> g(static_cast<std::size_t>(R) * P);
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      const auto lvl = static_cast<int>(rng.below(3)) - 1;
      g[static_cast<std::size_t>(r) * P + 2 * c] = lvl > 0 ? 200.0 : 5.0;
      g[static_cast<std::size_t>(r) * P + 2 * c + 1] = lvl < 0 ? 200.0 : 5.0;
    }
  }
  std::vector<float> gf(g.begin(), g.end());
  IrErrorFigure f;
  for (const auto d : {ir::Drive::rows, ir::Drive::cols}) {
    const auto t0 = clock::now();
    const auto Te = ir::exact_transfer(g, R, P, w, d);
    const auto t1 = clock::now();
    std::vector<float> Ta(g.size());
    ir::approx_transfer(gf.data(), R, P, w, d, Ta.data());
    const auto t2 = clock::now();
    f.t_exact_s += std::chrono::duration<double>(t1 - t0).count();
    f.t_approx_s += std::chrono::duration<double>(t2 - t1).count();
    for (int t = 0; t < 16; ++t) {
      std::vector<double> x(static_cast<std::size_t>(n));
      for (auto& xi : x) xi = rng.uniform();
      // Weight-unit outputs of the differential pairs: forward y_c = sum_r x_r (T_r,2c -
      // T_r,2c+1) / U; transpose (pairs driven +x / -x) y_r = sum_c x_c (same) / U.
      for (int o = 0; o < n; ++o) {
        double ye = 0, ya = 0, yi = 0;
        for (int i = 0; i < n; ++i) {
          const int r = d == ir::Drive::rows ? i : o;
          const int c = d == ir::Drive::rows ? o : i;
          const std::size_t k = static_cast<std::size_t>(r) * P + 2 * c;
          const double xi = x[static_cast<std::size_t>(i)];
          ye += xi * (Te[k] - Te[k + 1]);
          ya += xi * (static_cast<double>(Ta[k]) - static_cast<double>(Ta[k + 1]));
          yi += xi * (g[k] - g[k + 1]);
        }
        f.approx_err = std::max(f.approx_err, std::abs(ya - ye) / U);
        f.effect = std::max(f.effect, std::abs(ye - yi) / U);
      }
    }
  }
  return f;
}

}  // namespace memplast::test
