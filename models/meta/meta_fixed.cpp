// The fixed-point engine: construction (formats, constants, tables, ISA choice), the
// per-step constants and the dispatch to the per-weight datapath (meta_fixed_simd.cpp).
#include "meta/meta_fixed.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

namespace memplast::meta {
namespace detail {

FixedEngine::FixedEngine(const MetaParams& p, std::size_t n) : EngineBase(p, n), lut_(p) {
  fh_ = static_cast<int>(p.hidden_frac_bits);
  fg_ = static_cast<int>(p.grad_frac_bits);
  fv_ = 2 * fg_;
  vs_ = static_cast<int>(p.v_sig_bits);
  vmask_ = (std::uint32_t{1} << static_cast<unsigned>(vs_)) - 1U;
  h_max_ = (std::int64_t{1} << (p.hidden_bits - 1)) - 1;
  h_min_ = -h_max_ - 1;
  g_max_ = (std::int64_t{1} << (p.grad_bits - 1)) - 1;
  g_min_ = -g_max_ - 1;
  m_max_ = (std::int64_t{1} << (p.m_bits - 1)) - 1;
  m_min_ = -m_max_ - 1;
  h16_ = hidden_stored_16(p);
  if (h16_) {
    hn_.assign(n, 0);
    std::vector<std::int32_t>().swap(h_);
  }
  // Integer thresholds ceil(T 2^Fh): for every grid value h, h >= T_int <=> h >= T,
  // so the fixed quantizer equals the exact one on the grid.
  for (double t : q_.thresholds)
    thr_.push_back(static_cast<std::int64_t>(std::ceil(std::ldexp(t, fh_))));
  // x = m* d / I in Q.16 from a distance d in hidden LSBs: x_fx = d * k >> s.
  for (std::size_t k = 0; k < thr_.size(); ++k) {
    const double I = q_.values[k + 1] - q_.values[k];
    kthr_.push_back(make_const(p.m_star / I * std::ldexp(1.0, MetaLut::kXFrac - fh_), 30));
  }
  thr_pad_.push_back(-kFar);
  kthr_pad_.push_back(FxConst{0, 1});
  for (std::size_t k = 0; k < thr_.size(); ++k) {
    thr_pad_.push_back(thr_[k]);
    kthr_pad_.push_back(kthr_[k]);
  }
  thr_pad_.push_back(h_max_ + kFar);
  kthr_pad_.push_back(FxConst{0, 1});
  kglob_ = make_const(p.m_star / q_.mean_interval * std::ldexp(1.0, MetaLut::kXFrac - fh_), 30);
  c1_ = std::llround(std::ldexp(1.0 - p.beta1, kQ));
  c2_ = std::llround(std::ldexp(1.0 - p.beta2, kQ));
  mu_ = std::llround(std::ldexp(p.momentum, kQ));
  wd_ = make_const(p.weight_decay * std::ldexp(1.0, fg_ - fh_), 30);
  // 1/sqrt table: index = (exponent parity, k mantissa bits after the leading one).
  rk_ = static_cast<int>(p.rsqrt_lut_bits);
  rsq_.resize(std::size_t{2} << rk_);
  for (int par = 0; par < 2; ++par) {
    for (int f = 0; f < (1 << rk_); ++f) {
      const double mant = (1.0 + (f + 0.5) / std::ldexp(1.0, rk_)) * (par ? 2.0 : 1.0);
      rsq_[(static_cast<std::size_t>(par) << rk_) | static_cast<std::size_t>(f)] =
          static_cast<std::int32_t>(std::lround(std::ldexp(1.0, kR) / std::sqrt(mant)));
    }
  }
  rsq64_.assign(rsq_.begin(), rsq_.end());
  for (const FxConst& k : kthr_pad_) {
    kq_pad_.push_back(k.q);
    ks_pad_.push_back(k.shift);
  }
  // The meta LUT's table, read back through eval_fx at the segment starts (r = 0 gives
  // the entry exactly), with the same padding entry; same segment shift and clamp.
  {
    const auto ne = static_cast<std::uint64_t>(p.lut_entries);
    const double h = p.lut_range / static_cast<double>(ne);
    lut_seg_ = MetaLut::kXFrac + static_cast<int>(std::lround(std::log2(h)));
    lut_xmax_ = ne << static_cast<unsigned>(lut_seg_);
    for (std::uint64_t k = 0; k <= ne; ++k) {
      lut_tab_.push_back(lut_.eval_fx(k << static_cast<unsigned>(lut_seg_)));
    }
    lut_tab_.push_back(lut_tab_.back());
  }
  // The best build of the step the CPU runs; MEMPLAST_META_ISA (or MEMPLAST_ISA) =
  // generic | avx2 | avx512 forces one (the tests run each).
  isa_ = select_isa("MEMPLAST_META_ISA");
  for (std::size_t i = 0; i < n_; ++i) set_hidden(i, 0.0);
}

void FixedEngine::accumulate(const float* grad, std::size_t n) {
  check_n(n_, n);
  // Same dispatch as step(): the float part is one exact IEEE multiply by 2^Fg, a clamp
  // and a round-to-nearest-even conversion, identical in scalar and SIMD code.
  const auto b = split_range(n_, pool().size(), kBlock, kMinPart);
  if (b.size() == 2) {
    accumulate_range(grad, 0, n_);
  } else {
    pool().parallel_for(b.size() - 1,
                        [&](std::size_t k) { accumulate_range(grad, b[k], b[k + 1]); });
  }
  ++count_;
}

void FixedEngine::accumulate_range(const float* grad, std::size_t b0, std::size_t b1) {
  if (isa_ == Isa::avx512) {
    accumulate_avx512(grad, b0, b1);
  } else if (isa_ == Isa::avx2) {
    accumulate_avx2(grad, b0, b1);
  } else {
    accumulate_generic(grad, b0, b1);
  }
}

void FixedEngine::step(std::vector<LevelChange>& changes) {
  const std::uint64_t div = begin_step();
  dispatch(step_const(div, t_), changes);
}

FixedEngine::StepConst FixedEngine::step_const(std::uint64_t div, std::uint64_t t) const {
  StepConst c;
  // Batch mean: acc * (1/count) with 1/count in Q0.32 (exact for count = 1).
  c.rc = div > 0 ? std::llround(std::ldexp(1.0 / static_cast<double>(div), 32)) : 0;
  // Per-step scalar: alpha_t = lr sqrt(1-b2^t)/(1-b1^t) (computed once per step).
  const double td = static_cast<double>(t);
  const double alpha =
      adam_ ? p_.lr * std::sqrt(1.0 - std::pow(p_.beta2, td)) / (1.0 - std::pow(p_.beta1, td))
            : p_.lr;
  c.ka = make_const(alpha, 31);  // shift >= 31: adam_shift >= 1
  // Adam: delta = alpha * (m * R >> kR) * 2^(Fh - Fg + Fv/2 - p/2) with Fv/2 = Fg.
  c.adam_shift = c.ka.shift - fh_;
  // eps enters as sqrt(v + eps_t^2), eps_t = eps sqrt(1 - b2^t) (torch's bias-corrected
  // eps), at least one LSB of v.
  c.eps_v = std::max<std::int64_t>(
      1, std::llround(std::ldexp(p_.eps * p_.eps * (1.0 - std::pow(p_.beta2, td)), fv_)));
  // SGD: delta = lr * buf * 2^(Fh - Fg).
  c.sgd_shift = c.ka.shift + fg_ - fh_;
  return c;
}

FixedEngine::HwConsts FixedEngine::hw_consts() const {
  HwConsts h;
  h.thr = thr_;
  h.kthr = kthr_;
  h.kglob = kglob_;
  h.wd = wd_;
  h.lut = lut_tab_;
  h.rsq = rsq_;
  h.lut_seg = lut_seg_;
  h.lut_xmax = lut_xmax_;
  h.lut_frac = lut_.frac_bits();
  h.c1 = c1_;
  h.c2 = c2_;
  h.mu = mu_;
  h.adam = adam_;
  h.meta_on = meta_on_;
  h.option = option_;
  return h;
}

}  // namespace detail

std::unique_ptr<MetaEngine> make_fixed(const MetaParams& p, std::size_t n) {
  return std::make_unique<detail::FixedEngine>(p, n);
}

}  // namespace memplast::meta
