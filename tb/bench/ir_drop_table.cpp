// Prints the IR-drop table of docs/tile.md: for random ternary differential arrays
// (g_off 5 uS, g_on 200 uS, weight unit 195 uS) of n x n weights and wire resistances
// per segment, the largest MVM error of the ideal (no IR drop) model and of the
// first-order approximation against the exact nodal solution, in weight units and in
// ADC steps of the default range (full scale 0.25 n, 8 bits: step n / 512), over 16
// random inputs in [0, 1], forward and transpose; and the time of each solver.
//   ir_drop_table [max_n]   (default 128)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/rng.hpp"
#include "tile/ir_drop.hpp"

namespace ir = memplast::tile::ir;

int main(int argc, char** argv) {
  const int max_n = argc > 1 ? std::atoi(argv[1]) : 128;
  std::printf(
      "| n | r_wire (ohm) | IR-drop effect (w.u.) | approx error (w.u.) | approx error "
      "(ADC steps) | exact (s) | approx (ms) |\n|---|---|---|---|---|---|---|\n");
  for (int n = 16; n <= max_n; n *= 2) {
    for (const double rw : {0.25, 0.5, 1.0, 2.0}) {
      const ir::Wires w{rw, rw, 10.0, 10.0};
      const int R = n, C = n, P = 2 * n;
      memplast::Rng rng(1000 + static_cast<std::uint64_t>(n));
      std::vector<double> g(static_cast<std::size_t>(R) * P);
      for (int r = 0; r < R; ++r) {
        for (int c = 0; c < C; ++c) {
          const auto lvl = static_cast<int>(rng.below(3)) - 1;
          g[static_cast<std::size_t>(r * P + 2 * c)] = lvl > 0 ? 200.0 : 5.0;
          g[static_cast<std::size_t>(r * P + 2 * c + 1)] = lvl < 0 ? 200.0 : 5.0;
        }
      }
      std::vector<float> gf(g.begin(), g.end());
      double err = 0, effect = 0, t_exact = 0, t_approx = 0;
      for (const auto d : {ir::Drive::rows, ir::Drive::cols}) {
        auto t0 = std::chrono::steady_clock::now();
        const auto Te = ir::exact_transfer(g, R, P, w, d);
        auto t1 = std::chrono::steady_clock::now();
        std::vector<float> Ta(g.size());
        ir::approx_transfer(gf.data(), R, P, w, d, Ta.data());
        auto t2 = std::chrono::steady_clock::now();
        t_exact += std::chrono::duration<double>(t1 - t0).count();
        t_approx += std::chrono::duration<double>(t2 - t1).count();
        for (int t = 0; t < 16; ++t) {
          std::vector<double> x(static_cast<std::size_t>(n));
          for (auto& xi : x) xi = rng.uniform();
          for (int o = 0; o < n; ++o) {
            double ye = 0, ya = 0, yi = 0;
            for (int i = 0; i < n; ++i) {
              const int r = d == ir::Drive::rows ? i : o;
              const int c = d == ir::Drive::rows ? o : i;
              const auto k = static_cast<std::size_t>(r * P + 2 * c);
              const double xi = x[static_cast<std::size_t>(i)];
              ye += xi * (Te[k] - Te[k + 1]);
              ya += xi * (static_cast<double>(Ta[k]) - static_cast<double>(Ta[k + 1]));
              yi += xi * (g[k] - g[k + 1]);
            }
            err = std::max(err, std::abs(ya - ye) / 195.0);
            effect = std::max(effect, std::abs(yi - ye) / 195.0);
          }
        }
      }
      std::printf("| %d | %.2f | %.3f | %.4f | %.2f | %.3f | %.3f |\n", n, rw, effect, err,
                  err / (n / 512.0), t_exact, t_approx * 1e3);
      std::fflush(stdout);
    }
  }
  return 0;
}
