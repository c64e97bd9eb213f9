// The bit-exact fixed-point engine (make_fixed): the datapath the hardware (and the RTL)
// runs. Internal header: meta_fixed.cpp holds the set-up and the per-step constants,
// meta_fixed_simd.cpp the per-weight datapath (run_body, accumulate_body) and its builds
// for each instruction set. Number formats and equations: docs/meta.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/isa.hpp"
#include "common/thread_pool.hpp"
#include "meta/meta_core.hpp"
#include "meta/meta_detail.hpp"

// Targets of the AVX2+FMA and AVX-512 builds of FixedEngine's step (selected at run time;
// the CPU checks are common/isa.hpp's).
#if defined(__x86_64__) && defined(__GNUC__)
#define MEMPLAST_META_TARGET_AVX2 __attribute__((target("avx2,fma,bmi,bmi2,lzcnt,popcnt")))
#define MEMPLAST_META_TARGET_AVX512 \
  __attribute__((                   \
      target("avx512f,avx512dq,avx512cd,avx512bw,avx512vl,avx2,fma,bmi,bmi2,lzcnt,popcnt")))
#else
#define MEMPLAST_META_TARGET_AVX2
#define MEMPLAST_META_TARGET_AVX512
#endif

namespace memplast::meta::detail {

class FixedEngine final : public EngineBase<FixedEngine, std::int32_t, std::uint32_t> {
 public:
  FixedEngine(const MetaParams& p, std::size_t n);

  void accumulate(const float* grad, std::size_t n) override;

  void step(std::vector<LevelChange>& changes) override;

  float hidden(std::size_t i) const override {
    const std::int32_t h = h16_ ? std::int32_t{hn_[i]} : h_[i];
    return static_cast<float>(std::ldexp(static_cast<double>(h), -fh_));
  }
  void set_hidden(std::size_t i, double w) override {
    const std::int64_t x =
        sat(std::llround(std::clamp(std::ldexp(w, fh_), -4e18, 4e18)), h_min_, h_max_);
    if (h16_)
      hn_[i] = static_cast<std::int16_t>(x);
    else
      h_[i] = static_cast<std::int32_t>(x);
    int l = 0;
    for (auto t : thr_) l += (x >= t) ? 1 : 0;
    lev_[i] = static_cast<std::int8_t>(l);
  }
  MemoryBits memory_bits() const override { return meta::memory_bits(p_, n_); }

  // The per-step scalars (the controller's): batch-mean reciprocal rc (Q0.32), alpha_t
  // as ka, the Adam and SGD step shifts and eps_t^2 in v's LSBs.
  struct StepConst {
    std::int64_t rc{0};
    FxConst ka;
    int adam_shift{0};
    int sgd_shift{0};
    std::int64_t eps_v{1};
  };
  // The scalars of a step dividing the accumulated sum by `div` at Adam step `t` (>= 1).
  [[nodiscard]] StepConst step_const(std::uint64_t div, std::uint64_t t) const;

  // The datapath's configuration as a hardware controller loads it into the RTL
  // (models/rtl/meta_update.sv, tb/cosim): thresholds with their x = m* d / I constants,
  // the meta-function and 1/sqrt tables, the optimizer and decay constants.
  struct HwConsts {
    std::vector<std::int64_t> thr;  // integer thresholds, L-1
    std::vector<FxConst> kthr;      // per threshold
    FxConst kglob;                  // Option B
    FxConst wd;                     // weight decay
    std::vector<std::int64_t> lut;  // meta-function table (lut_entries + 2, last repeated)
    std::vector<std::int32_t> rsq;  // 1/sqrt table, 2^(rsqrt_lut_bits + 1) entries
    int lut_seg{0};
    std::uint64_t lut_xmax{0};
    int lut_frac{0};
    std::int64_t c1{0}, c2{0}, mu{0};
    bool adam{true};
    bool meta_on{true};
    char option{'B'};
  };
  [[nodiscard]] HwConsts hw_consts() const;

 private:
  friend class EngineBase<FixedEngine, std::int32_t, std::uint32_t>;  // dispatch() runs run()

  // Hidden weights at their hardware width: meta.hidden_bits <= 16 (the default, 16)
  // keeps them as int16 in hn_ (h_ empty), wider ones as int32 in h_. run_body widens a
  // block into int32 and narrows it back (exact: every stored value is in
  // [h_min_, h_max_]). The gradient accumulator and the first moment are grad_bits and
  // m_bits wide (32 by default), the second moment's code v_sig_bits + 6 <= 32 bits.
  void hidden_io(StateIO& io) {
    if (h16_)
      io.vec("h", hn_);
    else
      io.vec("h", h_);
  }
  bool h16_{false};
  std::vector<std::int16_t> hn_;

  // The second moment's storage float (decoded / encoded inline in run_body): code =
  // sh << S | mant, value = mant << sh, mant < 2^S (S = v_sig_bits significant bits,
  // explicit leading one).

  // The per-weight datapath, specialised per option/optimizer (no per-weight dispatch),
  // run in blocks of kBlock weights as short, branch-free passes over block-local int64
  // arrays that the vectoriser turns into SIMD code. Bit-exact: the passes compute exactly
  // the per-weight equations of docs/meta.md (and tb/unit/meta_fixed_ref.cpp, the frozen
  // pre-optimisation implementation, is checked against this one bit for bit).
  //
  // run_body is compiled three times: run_generic (the build's baseline ISA, SSE2 in
  // release), run_avx2 (AVX2+FMA) and run_avx512 (AVX-512 F/DQ/CD/BW/VL), target
  // attributes, one chosen at construction (select_isa("MEMPLAST_META_ISA"): the best the
  // CPU has unless forced). The datapath is integer-only, so the three are bit-identical
  // by construction: every operation is an exact int64 operation with no overflow (bounds
  // in the comments) and every shift count is in [0, 63] (the SIMD paths are used only
  // when the per-step shifts are proven to be, see step_shifts_ok()).
  //
  // The weights are independent: with sim.threads > 1 the step runs on contiguous ranges
  // of kBlock-aligned weights in parallel (common/thread_pool.hpp), each range's level
  // changes collected apart and appended in weight order, so the result is the same for
  // any thread count.
  template <char Opt, bool Adam, bool Meta>
  void run(const StepConst& c, std::vector<LevelChange>& changes) {
    const auto b = split_range(n_, pool().size(), kBlock, kMinPart);
    if (b.size() == 2) {
      run_range<Opt, Adam, Meta>(c, 0, n_, changes);
      return;
    }
    std::vector<std::vector<LevelChange>> part(b.size() - 1);
    pool().parallel_for(part.size(), [&](std::size_t k) {
      run_range<Opt, Adam, Meta>(c, b[k], b[k + 1], part[k]);
    });
    for (const auto& p : part) changes.insert(changes.end(), p.begin(), p.end());
  }
  template <char Opt, bool Adam, bool Meta>
  void run_range(const StepConst& c, std::size_t b0, std::size_t b1,
                 std::vector<LevelChange>& changes) {
    if (isa_ == Isa::avx512 && step_shifts_ok(c)) {
      run_avx512<Opt, Adam, Meta>(c, b0, b1, changes);
    } else if (isa_ == Isa::avx2 && step_shifts_ok(c)) {
      run_avx2<Opt, Adam, Meta>(c, b0, b1, changes);
    } else {
      run_generic<Opt, Adam, Meta>(c, b0, b1, changes);
    }
  }
  void accumulate_range(const float* grad, std::size_t b0, std::size_t b1);
  // The ISA builds of run_body and accumulate_body (meta_fixed_simd.cpp), on weights
  // [b0, b1).
  template <char Opt, bool Adam, bool Meta>
  __attribute__((noinline)) void run_generic(const StepConst& c, std::size_t b0, std::size_t b1,
                                             std::vector<LevelChange>& changes);
  template <char Opt, bool Adam, bool Meta>
  __attribute__((noinline)) MEMPLAST_META_TARGET_AVX2 void run_avx2(
      const StepConst& c, std::size_t b0, std::size_t b1, std::vector<LevelChange>& changes);
  template <char Opt, bool Adam, bool Meta>
  __attribute__((noinline)) MEMPLAST_META_TARGET_AVX512 void run_avx512(
      const StepConst& c, std::size_t b0, std::size_t b1, std::vector<LevelChange>& changes);
  __attribute__((noinline)) void accumulate_generic(const float* grad, std::size_t b0,
                                                    std::size_t b1);
  __attribute__((noinline)) MEMPLAST_META_TARGET_AVX2 void accumulate_avx2(const float* grad,
                                                                           std::size_t b0,
                                                                           std::size_t b1);
  __attribute__((noinline)) MEMPLAST_META_TARGET_AVX512 void accumulate_avx512(const float* grad,
                                                                               std::size_t b0,
                                                                               std::size_t b1);
  void accumulate_body(const float* grad, std::size_t b0, std::size_t b1);

  // Largest per-lane shift of the step is c.adam_shift + (e >> 1) with e <= 63 (the leading
  // one of v + eps), and c.sgd_shift; the others are construction-time constants <= 62.
  static bool step_shifts_ok(const StepConst& c) {
    return c.adam_shift >= 1 && c.adam_shift + 31 <= 62 && c.sgd_shift >= 1 && c.sgd_shift <= 62;
  }

  template <char Opt, bool Adam, bool Meta>
  void run_body(const StepConst& c, std::size_t b0, std::size_t b1,
                std::vector<LevelChange>& changes);

  static constexpr std::size_t kBlock = 512;
  static constexpr std::size_t kMinPart = 32768;  // weights per parallel range, at least
  static constexpr int kQ = 28;                   // Q0.28 optimizer constants
  static constexpr std::int64_t kFar = std::int64_t{1} << 32;  // distance cap (sentinels)
  static constexpr int kR = 16;                                // Q0.16 1/sqrt table
  // (v_ holds the second moment's storage-float codes.)
  MetaLut lut_;
  std::vector<std::int64_t> thr_;
  std::vector<std::int64_t> thr_pad_;
  std::vector<FxConst> kthr_pad_;
  std::vector<FxConst> kthr_;
  FxConst kglob_;
  FxConst wd_;
  std::vector<std::int32_t> rsq_;
  std::vector<std::int64_t> rsq64_;   // rsq_ widened (int64 vector lanes)
  std::vector<std::int64_t> kq_pad_;  // kthr_pad_ split into q and shift (vector lanes)
  std::vector<std::int64_t> ks_pad_;
  std::vector<std::int64_t> lut_tab_;  // MetaLut's table (read back via eval_fx), padded
  int lut_seg_{0};                     // MetaLut's segment shift
  std::uint64_t lut_xmax_{0};          // MetaLut's x clamp
  Isa isa_{Isa::generic};              // the build of the step that runs (MEMPLAST_META_ISA)
  int rk_{8};
  int fh_{13}, fg_{26}, fv_{52}, vs_{21};
  std::uint32_t vmask_{};
  std::int64_t h_min_{}, h_max_{}, g_min_{}, g_max_{}, m_min_{}, m_max_{};
  std::int64_t c1_{}, c2_{}, mu_{};
};

}  // namespace memplast::meta::detail
