// Configuration keys "meta.*" of the metaplasticity unit.
#include <cmath>

#include <fmt/format.h>

#include "meta/meta_core.hpp"
#include "meta/meta_params.hpp"

namespace memplast::meta {

void bind_params(cfg::Schema& s, MetaParams& p) {
  const std::string asm_hw = "assumption: hardware datapath choice, see docs/meta.md";
  // Hidden weights and quantizer.
  s.add("meta.hidden_bits", &p.hidden_bits, 8, 32, "bit",
        "Width of a hidden weight (two's complement, saturating)", "the issue (16 b default)");
  s.add("meta.hidden_frac_bits", &p.hidden_frac_bits, 1, 30, "bit",
        "Fraction bits of a hidden weight: LSB 2^-f, range [-2^(hidden_bits-1-f), "
        "2^(hidden_bits-1-f))",
        "assumption: range +-4 covers levels in [-1, 1] and consolidated weights (Option B, "
        "m*=3: f(3*4) ~ 0)");
  s.add("meta.levels", &p.levels, 2, 16, "",
        "Number L of quantized weight levels; the one truth for levels: the tiles store "
        "these L levels, and their conductance levels per device (tile.levels) derive from it",
        "paper-notes.md balanced setting (ternary)");
  s.add("meta.level_values", &p.level_values, -1e3, 1e3, 0, 16, "",
        "Level values Q_0 < ... < Q_{L-1}; empty: uniform in [-1, 1]. Thresholds are halfway "
        "between levels",
        "assumption: uniform levels in [-1, 1]");
  s.add("meta.arithmetic", &p.arithmetic, {"fixed", "float"},
        "Engine of the update: fixed = the bit-exact fixed-point datapath of the hardware, "
        "float = the float32 reference (software baseline)");
  // Metaplasticity.
  s.add("meta.option", &p.option, {"A", "B", "C"},
        "Metaplastic attenuation: A per interval (threshold ahead), B global (|W_H|), C "
        "nearest threshold (paper-notes.md)");
  s.add("meta.m_star", &p.m_star, 0.0, 64.0, "",
        "m*: consolidation strength; M = 1 - tanh^2(m* d / I); 0 switches metaplasticity off",
        "paper-notes.md balanced setting (Option B, m* = 3)");
  s.add("meta.lut_entries", &p.lut_entries, 4, 65536, "",
        "Segments of the piecewise-linear meta-function table over [0, meta.lut_range); "
        "lut_range/lut_entries must be a power of two >= 2^-16",
        asm_hw);
  s.add("meta.lut_range", &p.lut_range, 0.25, 64.0, "",
        "x range of the meta-function table; f = 0 beyond (f(8) = 4.5e-7)", asm_hw);
  s.add("meta.lut_frac_bits", &p.lut_frac_bits, 8, 24, "bit",
        "Fraction bits of the meta-function table values (Q0.f)", asm_hw);
  // Optimizer.
  s.add("meta.optimizer", &p.optimizer, {"adam", "sgd"},
        "Optimizer of the hidden weights; its state is reset at each task boundary");
  s.add("meta.lr", &p.lr, 0.0, 1.0, "", "Learning rate", "Laborieux et al. 2021 [L]");
  s.add("meta.beta1", &p.beta1, 0.0, 0.999999, "", "Adam beta1", "Laborieux et al. 2021 [L]");
  s.add("meta.beta2", &p.beta2, 0.0, 0.999999, "", "Adam beta2", "Laborieux et al. 2021 [L]");
  s.add("meta.eps", &p.eps, 0.0, 1.0, "",
        "Adam epsilon (fixed point: at least sqrt of one LSB of v, see docs/meta.md)",
        "Laborieux et al. 2021 [L]");
  s.add("meta.weight_decay", &p.weight_decay, 0.0, 1.0, "",
        "L2 weight decay added to the gradient (wd * W_H)", "Laborieux et al. 2021 [L]");
  s.add("meta.momentum", &p.momentum, 0.0, 0.999, "", "SGD momentum (0: plain SGD)",
        "assumption: only used with meta.optimizer = sgd");
  // Fixed-point formats.
  s.add("meta.grad_bits", &p.grad_bits, 8, 32, "bit",
        "Width of a gradient and of the gradient accumulator (saturating)", asm_hw);
  s.add("meta.grad_frac_bits", &p.grad_frac_bits, 8, 31, "bit",
        "Fraction bits of gradients, the accumulator and m (LSB 2^-26, range [-32, 32) at 32 b)",
        asm_hw);
  s.add("meta.m_bits", &p.m_bits, 8, 32, "bit",
        "Width of Adam's first moment (or the SGD momentum buffer); fraction = grad_frac_bits",
        asm_hw);
  s.add("meta.v_sig_bits", &p.v_sig_bits, 4, 26, "bit",
        "Adam's second moment is stored as an unsigned float: 6-bit exponent and this many "
        "significant bits (explicit leading one); 21 keeps the (1-beta2) update representable",
        asm_hw);
  s.add("meta.rsqrt_lut_bits", &p.rsqrt_lut_bits, 2, 14, "bit",
        "Mantissa bits indexing the 1/sqrt table (2^(b+1) entries, Q0.16); relative error "
        "<= 2^-(b+2)",
        asm_hw);
  // meta_unit timing and energy.
  s.add("meta.lanes", &p.lanes, 1, 1024, "weights/cycle", "Weights updated per cycle", asm_hw);
  s.add("meta.sram_ports", &p.sram_ports, 1, 2, "",
        "SRAM ports of the state memories: 2 (1R1W) gives one lane group per cycle, 1 gives "
        "two cycles (read, then write)",
        asm_hw);
  s.add("meta.pipeline_depth", &p.pipeline_depth, 0, 64, "cycle",
        "Fill latency of the update pipeline (read, Adam, rsqrt, meta, quantize, write)", asm_hw);
  s.add("meta.f_clk_MHz", &p.f_clk_MHz, 1.0, 2000.0, "MHz", "Clock of the meta unit",
        "assumption: 130 nm standard cells");
  s.add("meta.e_update_pJ", &p.e_update_pJ, 0.0, 1e6, "pJ",
        "Arithmetic energy of one weight update (about 10 8-b-mult equivalents at 130 nm)",
        "calibration.md digital at 130 nm (8 b mult about 1 pJ)");
  s.add("meta.e_sram_access_pJ", &p.e_sram_access_pJ, 0.0, 1e6, "pJ",
        "One 64-bit state SRAM access", "calibration.md digital at 130 nm (8 KB SRAM 64-bit read)");
  s.add("meta.e_accumulate_pJ", &p.e_accumulate_pJ, 0.0, 1e6, "pJ",
        "One gradient accumulation (32-bit add)", "calibration.md digital at 130 nm (5 x 0.1 pJ)");

  s.add_check([&p] {
    if (!p.level_values.empty()) {
      if (static_cast<std::int64_t>(p.level_values.size()) != p.levels) {
        throw cfg::ConfigError(
            fmt::format("key 'meta.level_values': {} values given but 'meta.levels' is {}",
                        p.level_values.size(), p.levels));
      }
      for (std::size_t i = 1; i < p.level_values.size(); ++i) {
        if (!(p.level_values[i] > p.level_values[i - 1])) {
          throw cfg::ConfigError("key 'meta.level_values': values must be strictly increasing");
        }
      }
    }
    if (p.hidden_frac_bits > p.hidden_bits - 2) {
      throw cfg::ConfigError(
          "keys 'meta.hidden_frac_bits'/'meta.hidden_bits': need at least one integer bit");
    }
    const double range = std::ldexp(1.0, static_cast<int>(p.hidden_bits - 1 - p.hidden_frac_bits));
    const auto q = Quantizer::from(p);
    if (std::fabs(q.values.front()) >= range || std::fabs(q.values.back()) >= range) {
      throw cfg::ConfigError(fmt::format(
          "keys 'meta.hidden_bits'/'meta.hidden_frac_bits': hidden range +-{} does not cover "
          "the level values",
          range));
    }
    const double h = p.lut_range / static_cast<double>(p.lut_entries);
    const double lg = std::log2(h);
    if (lg != std::round(lg) || lg < -16.0 || lg > 6.0) {
      throw cfg::ConfigError(fmt::format(
          "keys 'meta.lut_range'/'meta.lut_entries': segment width {} must be a power of two "
          "in [2^-16, 2^6]",
          h));
    }
    if (p.m_bits < p.grad_bits) {
      throw cfg::ConfigError(
          "keys 'meta.m_bits'/'meta.grad_bits': m must be at least as wide as "
          "a gradient");
    }
  });
}

}  // namespace memplast::meta
