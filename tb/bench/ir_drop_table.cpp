// Prints the IR-drop table of docs/tile.md: for random ternary differential arrays
// (g_off 5 uS, g_on 200 uS, weight unit 195 uS) of n x n weights and wire resistances
// per segment, the largest MVM error of the ideal (no IR drop) model and of the
// first-order approximation against the exact nodal solution, in weight units and in
// ADC steps of the default range (full scale 0.25 n, 8 bits: step n / 512), over 16
// random inputs in [0, 1], forward and transpose; and the time of each solver.
//   ir_drop_table [max_n]   (default 128)
#include <cstdio>
#include <cstdlib>

#include "../unit/ir_drop_measure.hpp"

namespace ir = memplast::tile::ir;

int main(int argc, char** argv) {
  const int max_n = argc > 1 ? std::atoi(argv[1]) : 128;
  std::printf(
      "| n | r_wire (ohm) | IR-drop effect (w.u.) | approx error (w.u.) | approx error "
      "(ADC steps) | exact (s) | approx (ms) |\n|---|---|---|---|---|---|---|\n");
  for (int n = 16; n <= max_n; n *= 2) {
    for (const double rw : {0.25, 0.5, 1.0, 2.0}) {
      const ir::Wires w{rw, rw, 10.0, 10.0};
      const auto f = memplast::test::measure_ir_error(n, w, 1000 + static_cast<std::uint64_t>(n));
      const double err = f.approx_err, effect = f.effect;
      std::printf("| %d | %.2f | %.3f | %.4f | %.2f | %.3f | %.3f |\n", n, rw, effect, err,
                  err / (n / 512.0), f.t_exact_s, f.t_approx_s * 1e3);
      std::fflush(stdout);
    }
  }
  return 0;
}
