// Parameters of the metaplasticity unit (keys meta.*): datapath formats, rule,
// optimizer, timing and energy. A plain aggregate whose member initializers are the
// keys' defaults. See docs/meta.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/schema.hpp"

namespace memplast::meta {

struct MetaParams {
  // -- hidden weights and quantizer --
  std::int64_t hidden_bits{16};       // two's complement width of a hidden weight
  std::int64_t hidden_frac_bits{13};  // fraction bits: LSB 2^-13, range [-4, 4)
  std::int64_t levels{3};             // L quantized levels (ternary by default)
  std::vector<double> level_values;   // empty: uniform in [-1, 1]; else L increasing values
  std::string arithmetic{"fixed"};    // make_engine(): "fixed" (the hardware) or "float"
  // -- metaplasticity --
  std::string option{"B"};         // "A" per interval, "B" global, "C" nearest threshold
  double m_star{3.0};              // m*; 0 switches the attenuation off
  std::int64_t lut_entries{128};   // meta-function LUT segments over [0, lut_range)
  double lut_range{8.0};           // x range of the LUT; f = 0 beyond
  std::int64_t lut_frac_bits{16};  // LUT value format Q0.lut_frac_bits
  // -- optimizer --
  std::string optimizer{"adam"};  // "adam" | "sgd"
  double lr{0.005};
  double beta1{0.9};
  double beta2{0.999};
  double eps{1e-8};
  double weight_decay{1e-7};  // L2, added to the gradient (torch style)
  double momentum{0.0};       // SGD momentum (0 = plain SGD)
  // -- fixed-point formats of the optimizer datapath --
  std::int64_t grad_bits{32};       // gradient and accumulator width (saturating)
  std::int64_t grad_frac_bits{26};  // gradient fraction bits (LSB 2^-26, range [-32, 32))
  std::int64_t m_bits{32};          // first moment (or momentum buffer), frac = grad_frac_bits
  std::int64_t v_sig_bits{21};      // second moment: unsigned float, 6-b exponent + this many
                                    // significant bits; value frac = 2*grad_frac_bits
  std::int64_t rsqrt_lut_bits{8};   // mantissa bits indexing the 1/sqrt LUT (2^(b+1) entries)
  // -- SystemC meta_unit (timing and energy) --
  std::int64_t lanes{16};          // weights updated per cycle
  std::int64_t sram_ports{2};      // 1: read and write share a port (2 cycles per group)
  std::int64_t pipeline_depth{8};  // cycles to fill the update pipeline
  double f_clk_MHz{100.0};
  double e_update_pJ{10.0};       // arithmetic of one weight update (Adam + meta + quantize)
  double e_sram_access_pJ{50.0};  // one 64-bit SRAM access at 130 nm
  double e_accumulate_pJ{0.5};    // one gradient accumulate (32-bit add)
};

void bind_params(cfg::Schema& s, MetaParams& p);

}  // namespace memplast::meta
