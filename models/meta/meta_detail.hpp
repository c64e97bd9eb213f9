// Internals shared by the metaplasticity engines (meta_core.cpp, meta_fixed*.cpp,
// meta_float.cpp); not part of the public interface (meta_core.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "meta/meta_core.hpp"

namespace memplast::meta::detail {

inline std::int64_t sat(std::int64_t x, std::int64_t lo, std::int64_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// A positive real constant c as q * 2^-shift with q < 2^max_bits (largest shift <= 62).
struct FxConst {
  std::int64_t q{0};
  int shift{0};
};
FxConst make_const(double c, int max_bits);

// Copy the new levels lb[0..nb) of a block into lev[0..nb) and append a change for
// every weight whose level differs (compared 8 levels at a time; both engines).
void commit_levels(std::int8_t* lev, const std::int8_t* lb, std::size_t nb, std::size_t base,
                   std::vector<LevelChange>& changes);

// Throws unless accumulate() got one gradient per weight.
void check_n(std::size_t n_engine, std::size_t n);

// The state and accessors both engines share: parameters, quantizer, the per-weight arrays
// (hidden weight, gradient accumulator, first and second moment, in the engine's number
// types W and V), the levels, the optimizer/option selection and the step counters.
// Derived (CRTP) supplies set_hidden and `template <char Opt, bool Adam, bool Meta> void
// run(const StepArg&, changes)`, the step specialised per option/optimizer.
template <class Derived, class W, class V>
class EngineBase : public MetaEngine {
 public:
  std::size_t size() const override { return n_; }
  void init_uniform(Rng& rng, double a) override {
    for (std::size_t i = 0; i < n_; ++i) set_hidden(i, rng.uniform(-a, a));
    new_task();
    clear_accumulator();
  }
  void new_task() override {
    std::fill(m_.begin(), m_.end(), W{0});
    std::fill(v_.begin(), v_.end(), V{0});
    t_ = 0;
  }
  void clear_accumulator() override {
    std::fill(acc_.begin(), acc_.end(), W{0});
    count_ = 0;
  }
  void set_batch_divisor(std::uint32_t d) override { divisor_ = d; }
  const std::int8_t* levels() const override { return lev_.data(); }
  float level_value(int level) const override {
    return static_cast<float>(q_.values.at(static_cast<std::size_t>(level)));
  }
  std::uint64_t steps_in_task() const override { return t_; }
  const MetaParams& params() const override { return p_; }
  const Quantizer& quantizer() const override { return q_; }
  // Checkpoint: the per-weight state, the accumulator count, the batch divisor and the
  // optimizer's step counter (both engines hold the same members).
  void state_io(StateIO& io) override {
    io.section("meta_engine");
    static_cast<Derived&>(*this).hidden_io(io);
    io.vec("acc", acc_);
    io.vec("m", m_);
    io.vec("v", v_);
    io.vec("lev", lev_);
    io.value("count", count_);
    io.value("divisor", divisor_);
    io.value("t", t_);
  }

 protected:
  EngineBase(const MetaParams& p, std::size_t n)
      : p_(p), q_(Quantizer::from(p)), n_(n), h_(n), acc_(n), m_(n), v_(n), lev_(n, 0) {
    if (n > std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("meta: too many weights");
    adam_ = p.optimizer == "adam";
    option_ = p.option.empty() ? 'B' : p.option[0];
    meta_on_ = p.m_star > 0.0;
  }

  // The hidden weights' part of state_io (Derived may store them otherwise).
  void hidden_io(StateIO& io) { io.vec("h", h_); }

  // Starts a step: counts it (Adam's t), returns the divisor of the accumulated sum (the
  // BATCH register, else the number of accumulate() calls; 0 if neither) and restarts
  // the count.
  std::uint64_t begin_step() {
    ++t_;
    const std::uint64_t div = divisor_ > 0 ? divisor_ : count_;
    count_ = 0;
    return div;
  }

  // Runs Derived::run specialised for this engine's option, optimizer and metaplasticity.
  template <class StepArg>
  void dispatch(const StepArg& a, std::vector<LevelChange>& changes) {
    if (!meta_on_)
      run_opt<'B', false>(a, changes);
    else if (option_ == 'A')
      run_opt<'A', true>(a, changes);
    else if (option_ == 'B')
      run_opt<'B', true>(a, changes);
    else
      run_opt<'C', true>(a, changes);
  }

  MetaParams p_;
  Quantizer q_;
  std::size_t n_;
  std::vector<W> h_, acc_, m_;
  std::vector<V> v_;
  std::vector<std::int8_t> lev_;
  bool adam_{true};
  char option_{'B'};
  bool meta_on_{true};
  std::uint64_t count_{0};
  std::uint64_t divisor_{0};
  std::uint64_t t_{0};

 private:
  template <char Opt, bool Meta, class StepArg>
  void run_opt(const StepArg& a, std::vector<LevelChange>& changes) {
    auto& d = static_cast<Derived&>(*this);
    if (adam_)
      d.template run<Opt, true, Meta>(a, changes);
    else
      d.template run<Opt, false, Meta>(a, changes);
  }
};

}  // namespace memplast::meta::detail
