// FixedEngine's per-weight datapath (run_body, accumulate_body; see the comment on run()
// in meta_fixed.hpp) and its builds: the baseline ISA of the build (run_generic,
// accumulate_generic), AVX2+FMA (run_avx2, accumulate_avx2) and AVX-512 (run_avx512,
// accumulate_avx512), one chosen at run time.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "meta/meta_fixed.hpp"

namespace memplast::meta::detail {

__attribute__((always_inline)) inline void FixedEngine::accumulate_body(
    const float* __restrict grad, std::size_t b0, std::size_t b1) {
  const float scale = std::ldexp(1.0F, fg_);
  const std::int64_t lo = g_min_;
  const std::int64_t hi = g_max_;
  std::int32_t* __restrict acc = acc_.data() + b0;
  grad += b0;
  const std::size_t n = b1 - b0;
  for (std::size_t i = 0; i < n; ++i) {
    // float -> fixed (round to nearest, saturating), then a saturating add into the
    // accumulator (same format as a gradient).
    const float s = std::min(std::max(grad[i] * scale, -4.0e9F), 4.0e9F);
    const std::int64_t g = std::llrint(s);  // round to nearest even
    acc[i] = static_cast<std::int32_t>(sat(acc[i] + sat(g, lo, hi), lo, hi));
  }
}

template <char Opt, bool Adam, bool Meta>
__attribute__((always_inline)) inline void FixedEngine::run_body(
    const StepConst& c, std::size_t b0, std::size_t b1, std::vector<LevelChange>& changes) {
  const std::size_t L1 = thr_.size();
  const std::int64_t* __restrict thr = thr_.data();
  const std::int64_t thr0 = thr[0];
  const std::int64_t thr1 = L1 > 1 ? thr[1] : 0;
  const std::int64_t h_min = h_min_;
  const std::int64_t h_max = h_max_;
  const std::int64_t g_min = g_min_;
  const std::int64_t g_max = g_max_;
  const std::int64_t m_min = m_min_;
  const std::int64_t m_max = m_max_;
  const std::int64_t c1 = c1_;
  const std::int64_t c2 = c2_;
  const std::int64_t mu = mu_;
  const std::int64_t wdq = wd_.q;
  const int wds = wd_.shift;
  const std::int64_t kgq = kglob_.q;
  const int kgs = kglob_.shift;
  const std::int64_t rk = rk_;
  const std::int64_t rmask = (std::int64_t{1} << rk) - 1;
  const int lut_frac = lut_.frac_bits();
  const std::int64_t* __restrict rsq = rsq64_.data();
  const std::int64_t* __restrict lut = lut_tab_.data();
  const int seg = lut_seg_;
  const std::uint64_t seg_mask = (std::uint64_t{1} << seg) - 1U;
  const std::int64_t seg_half = seg > 0 ? (std::int64_t{1} << (seg - 1)) : 0;
  const std::uint64_t x_max = lut_xmax_;
  const std::int64_t* __restrict thr_pad = thr_pad_.data();
  const std::int64_t* __restrict kq_pad = kq_pad_.data();
  const std::int64_t* __restrict ks_pad = ks_pad_.data();
  const std::int64_t vs = vs_;
  const std::int64_t vmask = vmask_;
  const std::int64_t eps_v = c.eps_v;
  const std::int64_t kaq = c.ka.q;
  const std::int64_t adam_shift = c.adam_shift;
  const int sgd_shift = c.sgd_shift;
  const std::int64_t rc = c.rc;
  const bool mean_one = c.rc == (std::int64_t{1} << 32);
  alignas(64) std::int64_t gb[kBlock];
  alignas(64) std::int64_t db[kBlock];
  alignas(64) std::int64_t vb[kBlock];
  alignas(64) std::int64_t xb[kBlock];
  alignas(64) std::int64_t ab[kBlock];
  alignas(64) std::int8_t lb[kBlock];
  alignas(64) std::int32_t hw[kBlock];  // an int16-stored block, widened
  const bool h16 = h16_;
  for (std::size_t base = b0; base < b1; base += kBlock) {
    const std::size_t nb = std::min(kBlock, b1 - base);
    std::int16_t* __restrict h16p = h16 ? hn_.data() + base : nullptr;
    if (h16) {
      for (std::size_t i = 0; i < nb; ++i) hw[i] = h16p[i];
    }
    std::int32_t* __restrict hv = h16 ? hw : h_.data() + base;
    std::int32_t* __restrict acc = acc_.data() + base;
    std::int32_t* __restrict mv = m_.data() + base;
    std::uint32_t* __restrict vv = v_.data() + base;
    std::int8_t* __restrict lev = lev_.data() + base;
    // 1. gradient: batch mean, weight decay, saturation. Mean: acc * rc in int64 (the
    // reference used 128 bits): |acc| <= 2^31 and, when not the exact count-1 path,
    // rc = round(2^32 / div) <= 2^31 (div >= 2), so |acc * rc| + 2^31 < 2^63.
    // Decay: |h| <= 2^31, wd.q < 2^30: < 2^61.
    if (mean_one) {
      for (std::size_t i = 0; i < nb; ++i) {
        const std::int64_t g = acc[i];
        const std::int64_t wdt =
            (static_cast<std::int64_t>(hv[i]) * wdq + (std::int64_t{1} << (wds - 1))) >> wds;
        gb[i] = sat(g + wdt, g_min, g_max);
        acc[i] = 0;
      }
    } else {
      for (std::size_t i = 0; i < nb; ++i) {
        const std::int64_t g =
            (static_cast<std::int64_t>(acc[i]) * rc + (std::int64_t{1} << 31)) >> 32;
        const std::int64_t wdt =
            (static_cast<std::int64_t>(hv[i]) * wdq + (std::int64_t{1} << (wds - 1))) >> wds;
        gb[i] = sat(g + wdt, g_min, g_max);
        acc[i] = 0;
      }
    }
    // 2. optimizer.
    if constexpr (Adam) {
      for (std::size_t i = 0; i < nb; ++i) {
        const std::int64_t g = gb[i];
        const std::int64_t m0 = mv[i];
        // c1 <= 2^28, |g - m0| < 2^32.
        const std::int64_t m =
            sat(m0 + ((c1 * (g - m0) + (std::int64_t{1} << (kQ - 1))) >> kQ), m_min, m_max);
        mv[i] = static_cast<std::int32_t>(m);
        gb[i] = m;
        // v0 + round(c2 (g^2 - v0) / 2^kQ) without the reference's 128-bit product.
        // Bounds: g^2 <= 2^62 (|g| <= 2^31); c2 <= 2^kQ (beta2 >= 0), so by induction
        // 0 <= v <= 2^62 (v moves from v0 towards g^2 by at most |g^2 - v0|, and the
        // storage rounding to v_sig_bits cannot pass 2^62); hence |x| <= 2^62 for
        // x = g^2 - v0. Split x = xh 2^kQ + xl (xh = x >> kQ, 0 <= xl < 2^kQ):
        // (c2 x + 2^(kQ-1)) >> kQ = c2 xh + ((c2 xl + 2^(kQ-1)) >> kQ) exactly (floor
        // division by 2^kQ commutes with adding the multiple c2 xh 2^kQ), with
        // |c2 xh| <= 2^62 and c2 xl < 2^56: no int64 overflow.
        const std::int64_t vcode0 = vv[i];
        const std::int64_t v0 = (vcode0 & vmask) << (vcode0 >> vs);
        const std::int64_t x = g * g - v0;
        const std::int64_t xh = x >> kQ;
        const std::int64_t xl = x & ((std::int64_t{1} << kQ) - 1);
        const std::int64_t v = v0 + c2 * xh + ((c2 * xl + (std::int64_t{1} << (kQ - 1))) >> kQ);
        // Encode (branch-free): v < 2^S is stored exactly (sh = 0); else rounded to S
        // significant bits (round half up), renormalised when the rounding carries into
        // a new bit.
        const std::int64_t vp = v < 0 ? 0 : v;
        const std::int64_t ev = 63 - __builtin_clzll(static_cast<std::uint64_t>(vp) | 1U);
        const std::int64_t sh0 = ev - vs + 1 > 0 ? ev - vs + 1 : 0;
        // (vp + 2^(sh0-1)) >> sh0 written as ((vp >> (sh0-1)) + 1) >> 1 (nested floor
        // division: identical for every integer), which needs no variable 1 << n.
        const std::int64_t mant0 = sh0 > 0 ? ((vp >> (sh0 - 1)) + 1) >> 1 : vp;
        const std::int64_t carry = mant0 >> vs;
        const std::int64_t mant = mant0 >> carry;
        const std::int64_t shv = sh0 + carry;
        const std::int64_t vc = (shv << vs) | mant;  // < 2^32
        vv[i] = static_cast<std::uint32_t>(vc);
        vb[i] = ((vc & vmask) << (vc >> vs)) + eps_v;
      }
      // 1/sqrt(v + eps^2): normalise (leading one e), table on parity and rk bits.
      for (std::size_t i = 0; i < nb; ++i) {
        const std::int64_t vx = vb[i];  // >= 1
        const std::int64_t e =
            63 - static_cast<std::int64_t>(__builtin_clzll(static_cast<std::uint64_t>(vx) | 1U));
        const std::int64_t sh = e - rk;
        const std::int64_t f = sh >= 0 ? (vx >> sh) : (vx << (-sh));  // vx > 0: >> as unsigned
        const std::int64_t idx = ((e & 1) << rk) | (f & rmask);
        const std::int64_t t = (gb[i] * rsq[idx] + (std::int64_t{1} << (kR - 1))) >> kR;
        const std::int64_t s = adam_shift + (e >> 1);
        db[i] = -((((t * kaq) >> (s - 1)) + 1) >> 1);  // = (t kaq + 2^(s-1)) >> s, s >= 1
      }
    } else {
      if (mu != 0) {
        for (std::size_t i = 0; i < nb; ++i) {
          const std::int64_t b =
              sat(((mu * mv[i] + (std::int64_t{1} << (kQ - 1))) >> kQ) + gb[i], m_min, m_max);
          mv[i] = static_cast<std::int32_t>(b);
          db[i] = -((b * kaq + (std::int64_t{1} << (sgd_shift - 1))) >> sgd_shift);
        }
      } else {
        for (std::size_t i = 0; i < nb; ++i) {
          db[i] = -((gb[i] * kaq + (std::int64_t{1} << (sgd_shift - 1))) >> sgd_shift);
        }
      }
    }
    // 3. metaplastic attenuation: x = m* d / I (Q.16), f from the LUT, d *= f.
    if constexpr (Meta) {
      if constexpr (Opt == 'B') {
        for (std::size_t i = 0; i < nb; ++i) {
          const std::int64_t h = hv[i];
          const std::int64_t d = db[i];
          ab[i] = (h ^ d) < 0 ? 1 : 0;  // shrinks |W| (h = 0: x = 0, f = 1)
          xb[i] = ((h < 0 ? -h : h) * kgq + (std::int64_t{1} << (kgs - 1))) >> kgs;
        }
      } else {
        const auto l1 = static_cast<std::int64_t>(L1);
        for (std::size_t i = 0; i < nb; ++i) {
          const std::int64_t h = hv[i];
          const bool up = db[i] > 0;
          const std::int64_t l0 = lev[i];
          const std::int64_t ia = up ? l0 : l0 - 1;  // threshold ahead (-1 or L1: none)
          const std::int64_t ib = up ? l0 - 1 : l0;  // threshold behind (sentinel: infinitely far)
          const std::int64_t ta = thr_pad[ia + 1];
          const std::int64_t tb = thr_pad[ib + 1];
          const std::int64_t dar = up ? ta - h : h - ta;
          const std::int64_t da = dar < kFar ? dar : kFar;
          bool att = (ia >= 0) & (ia < l1);
          if constexpr (Opt == 'C') {
            const std::int64_t dbh = up ? h - tb : tb - h;
            att = att & (da <= dbh);
          }
          ab[i] = att ? 1 : 0;
          const std::int64_t kq = kq_pad[ia + 1];
          const std::int64_t ks = ks_pad[ia + 1];
          xb[i] = ((((da < 0 ? 0 : da) * kq) >> (ks - 1)) + 1) >> 1;  // rounding >> ks, ks >= 1
        }
      }
      for (std::size_t i = 0; i < nb; ++i) {
        // MetaLut::eval_fx on a copy of its table (lut_tab_, int64 entries).
        const auto xx = static_cast<std::uint64_t>(xb[i]);
        const std::uint64_t xc = xx < x_max ? xx : x_max;
        const auto k = static_cast<std::int64_t>(xc >> seg);
        const auto r = static_cast<std::int64_t>(xc & seg_mask);
        const std::int64_t a = lut[k];
        const std::int64_t b = lut[k + 1];
        const std::int64_t f = static_cast<std::uint32_t>(a + (((b - a) * r + seg_half) >> seg));
        const std::int64_t d = db[i];
        const std::int64_t dat = (d * f + (std::int64_t{1} << (lut_frac - 1))) >> lut_frac;
        db[i] = ab[i] != 0 ? dat : d;
      }
    }
    // 4. new hidden weight (saturating) and level.
    if (L1 == 2) {  // ternary, the default
      for (std::size_t i = 0; i < nb; ++i) {
        const std::int64_t hn = sat(hv[i] + db[i], h_min, h_max);
        hv[i] = static_cast<std::int32_t>(hn);
        lb[i] = static_cast<std::int8_t>((hn >= thr0 ? 1 : 0) + (hn >= thr1 ? 1 : 0));
      }
    } else {
      for (std::size_t i = 0; i < nb; ++i) {
        const std::int64_t hn = sat(hv[i] + db[i], h_min, h_max);
        hv[i] = static_cast<std::int32_t>(hn);
        int l = 0;
        for (std::size_t k = 0; k < L1; ++k) l += (hn >= thr[k]) ? 1 : 0;
        lb[i] = static_cast<std::int8_t>(l);
      }
    }
    if (h16) {
      for (std::size_t i = 0; i < nb; ++i) h16p[i] = static_cast<std::int16_t>(hw[i]);
    }
    // 5. level changes.
    commit_levels(lev, lb, nb, base, changes);
  }
}

template <char Opt, bool Adam, bool Meta>
void FixedEngine::run_generic(const StepConst& c, std::size_t b0, std::size_t b1,
                              std::vector<LevelChange>& changes) {
  run_body<Opt, Adam, Meta>(c, b0, b1, changes);
}
template <char Opt, bool Adam, bool Meta>
MEMPLAST_META_TARGET_AVX2 void FixedEngine::run_avx2(const StepConst& c, std::size_t b0,
                                                     std::size_t b1,
                                                     std::vector<LevelChange>& changes) {
  run_body<Opt, Adam, Meta>(c, b0, b1, changes);
}
template <char Opt, bool Adam, bool Meta>
MEMPLAST_META_TARGET_AVX512 void FixedEngine::run_avx512(const StepConst& c, std::size_t b0,
                                                         std::size_t b1,
                                                         std::vector<LevelChange>& changes) {
  run_body<Opt, Adam, Meta>(c, b0, b1, changes);
}
void FixedEngine::accumulate_generic(const float* grad, std::size_t b0, std::size_t b1) {
  accumulate_body(grad, b0, b1);
}
MEMPLAST_META_TARGET_AVX2 void FixedEngine::accumulate_avx2(const float* grad, std::size_t b0,
                                                            std::size_t b1) {
  accumulate_body(grad, b0, b1);
}
MEMPLAST_META_TARGET_AVX512 void FixedEngine::accumulate_avx512(const float* grad, std::size_t b0,
                                                                std::size_t b1) {
  accumulate_body(grad, b0, b1);
}

// The specialisations step() dispatches to.
#define MEMPLAST_META_INSTANTIATE(OPT, ADAM, META)                                                 \
  template void FixedEngine::run_generic<OPT, ADAM, META>(const StepConst&, std::size_t,           \
                                                          std::size_t, std::vector<LevelChange>&); \
  template void FixedEngine::run_avx2<OPT, ADAM, META>(const StepConst&, std::size_t, std::size_t, \
                                                       std::vector<LevelChange>&);                 \
  template void FixedEngine::run_avx512<OPT, ADAM, META>(const StepConst&, std::size_t,            \
                                                         std::size_t, std::vector<LevelChange>&);
MEMPLAST_META_INSTANTIATE('B', true, false)
MEMPLAST_META_INSTANTIATE('A', true, true)
MEMPLAST_META_INSTANTIATE('B', true, true)
MEMPLAST_META_INSTANTIATE('C', true, true)
MEMPLAST_META_INSTANTIATE('B', false, false)
MEMPLAST_META_INSTANTIATE('A', false, true)
MEMPLAST_META_INSTANTIATE('B', false, true)
MEMPLAST_META_INSTANTIATE('C', false, true)
#undef MEMPLAST_META_INSTANTIATE

}  // namespace memplast::meta::detail
