// The digital metaplasticity core: hidden weights, gradient accumulation, the
// optimizer (SGD with momentum, Adam), the metaplastic attenuation (Options A, B, C of
// paper-notes.md), the quantizer to L levels and level-change detection.
//
// Two implementations of one interface:
//  * make_fixed(): the bit-exact fixed-point datapath the hardware (and the RTL) runs:
//    saturating integer hidden weights, fixed-point m and v, a LUT-based reciprocal
//    square root and a LUT (piecewise linear) meta function. See docs/meta.md.
//  * make_float(): the float32 reference of the same update (exact 1 - tanh^2, sqrt,
//    division), used as the software baseline and to bound the fixed-point error.
//
// Gradient convention: accumulate() ADDS a gradient (dLoss/dW_Q, one float per weight)
// into the accumulator and counts the call; step() uses the MEAN of the accumulated
// gradients (sum / number of accumulate() calls since the last step). A trainer that
// calls accumulate() once per batch with the batch-mean gradient gets exactly that
// gradient; one that calls it once per sample gets the batch mean. step() with no
// accumulate() call since the last step uses a zero gradient (weight decay only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/rng.hpp"
#include "common/schema.hpp"
#include "common/state_io.hpp"
#include "meta/meta_params.hpp"

namespace memplast::meta {

struct LevelChange {
  std::uint32_t index;
  std::int8_t level;  // new level index 0..L-1
};

struct MemoryBits {
  std::uint64_t hidden{0};     // hidden weights (digital SRAM)
  std::uint64_t optimizer{0};  // optimizer state (m, v or momentum)
  std::uint64_t stored{0};     // quantized weights: ceil(log2 L) bits per weight
  std::uint64_t gradient{0};   // gradient accumulator (digital SRAM)
  [[nodiscard]] std::uint64_t total() const { return hidden + optimizer + stored + gradient; }
};

// The level values and thresholds implied by the parameters.
struct Quantizer {
  std::vector<double> values;      // L increasing level values
  std::vector<double> thresholds;  // L-1 thresholds, halfway between levels
  double mean_interval{1.0};       // (Q_{L-1} - Q_0)/(L-1), the I of Option B
  static Quantizer from(const MetaParams& p);
  [[nodiscard]] int level_of(double w) const;  // number of thresholds <= w
};

// The meta function f(x) = 1 - tanh^2(x), x >= 0, as the hardware computes it:
// a table of lut_entries+1 values f(k h), h = lut_range / lut_entries, in
// Q0.lut_frac_bits, linearly interpolated; 0 beyond lut_range.
class MetaLut {
 public:
  explicit MetaLut(const MetaParams& p);
  // x in fixed point with kXFrac fraction bits.
  static constexpr int kXFrac = 16;
  [[nodiscard]] std::uint32_t eval_fx(std::uint64_t x_fx) const {  // Q0.frac_bits
    // Beyond the range: the last entry, f(lut_range) (0 at the default range 8).
    const std::uint64_t xc = x_fx < x_max_ ? x_fx : x_max_;
    const std::uint64_t k = xc >> static_cast<unsigned>(seg_shift_);
    const std::uint64_t r = xc & ((std::uint64_t{1} << static_cast<unsigned>(seg_shift_)) - 1U);
    const auto a = static_cast<std::int64_t>(table_[k]);
    const auto b = static_cast<std::int64_t>(table_[k + 1]);
    const std::int64_t half = seg_shift_ > 0 ? (std::int64_t{1} << (seg_shift_ - 1)) : 0;
    return static_cast<std::uint32_t>(
        a + (((b - a) * static_cast<std::int64_t>(r) + half) >> seg_shift_));
  }
  [[nodiscard]] double eval(double x) const;  // via eval_fx
  [[nodiscard]] int frac_bits() const { return frac_; }
  // Proven bound on |eval(x) - (1 - tanh^2 x)| for every x >= 0 (docs/meta.md).
  [[nodiscard]] double error_bound() const { return bound_; }

 private:
  std::vector<std::uint32_t> table_;
  int frac_;
  int seg_shift_;  // log2 of the segment width in x LSBs (segments are powers of two)
  std::uint64_t x_max_;
  double bound_;
};

// Exact meta function.
double meta_f(double x);
// The float reference's meta function (x in [0, 40]): 4e/(1+e)^2 with e = exp(-2x) in
// float (vectorisable exp, about 1 ulp); |error| < 1e-6 (tested).
float meta_f_float(float x);

// The interface the trainer uses.
class MetaEngine {
 public:
  virtual ~MetaEngine() = default;
  virtual std::size_t size() const = 0;
  // Hidden weights U(-a, a) (fixed point: rounded to the LSB), levels set, state cleared.
  virtual void init_uniform(Rng& rng, double half_range) = 0;
  // Add a gradient (dLoss/dW_Q, float) for all n == size() weights.
  virtual void accumulate(const float* grad, std::size_t n) = 0;
  // Optimizer + metaplastic attenuation + quantize on the mean accumulated gradient;
  // clears the accumulator; appends exactly the weights whose level changed.
  virtual void step(std::vector<LevelChange>& changes) = 0;
  // Reset the optimizer state (task boundary); hidden weights are kept.
  virtual void new_task() = 0;
  // Drop the accumulated gradient (and the count of accumulate() calls).
  virtual void clear_accumulator() = 0;
  // 0 (default): step() divides the accumulated sum by the number of accumulate() calls;
  // d > 0: by d (the meta_unit's BATCH register). Sticky.
  virtual void set_batch_divisor(std::uint32_t d) = 0;
  virtual const std::int8_t* levels() const = 0;
  virtual float level_value(int level) const = 0;
  virtual float hidden(std::size_t i) const = 0;
  // Set one hidden weight (rounded/saturated in fixed point) and its level
  // (checkpoint restore, tests). Does not report a level change.
  virtual void set_hidden(std::size_t i, double w) = 0;
  virtual MemoryBits memory_bits() const = 0;
  // Number of step() calls since construction or new_task() (Adam's t).
  virtual std::uint64_t steps_in_task() const = 0;
  virtual const MetaParams& params() const = 0;
  virtual const Quantizer& quantizer() const = 0;
  // Checkpoint: every field that changes after construction (hidden weights, levels,
  // gradient accumulator and count, optimizer state, batch divisor, step count). The
  // default throws: an engine without it cannot be checkpointed.
  virtual void state_io(StateIO& io);
};

std::unique_ptr<MetaEngine> make_fixed(const MetaParams& p, std::size_t n);
std::unique_ptr<MetaEngine> make_float(const MetaParams& p, std::size_t n);
// make_fixed or make_float as meta.arithmetic says.
std::unique_ptr<MetaEngine> make_engine(const MetaParams& p, std::size_t n);

// Whether the fixed-point engine keeps the hidden weights as int16 (meta.hidden_bits <=
// 16; wider ones as int32): the simulator's own storage, see memory_bits for the
// hardware's.
inline bool hidden_stored_16(const MetaParams& p) { return p.hidden_bits <= 16; }

// Bits of storage of a weight array of n weights under p (both engines report this).
MemoryBits memory_bits(const MetaParams& p, std::size_t n);

}  // namespace memplast::meta
