// TEST-ONLY: a frozen copy of the fixed-point metaplastic engine (FixedEngine of
// models/meta/meta_core.cpp as of commit 0bcc052, before the step() was restructured for
// speed). tb/unit/test_meta.cpp runs it side by side with make_fixed() and requires
// bit-identical hidden weights, levels and level changes. Do not "fix" or optimise this
// file: it is the specification the optimised engine is checked against.
#include "meta_fixed_ref.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::meta::ref {

namespace {

// Rounding right shift (round half up); negative s shifts left.
inline std::int64_t rshr(std::int64_t x, int s) {
  if (s <= 0) return x * (std::int64_t{1} << (-s));
  return (x + (std::int64_t{1} << (s - 1))) >> s;
}
// The same for s >= 1 (every shift of the datapath; checked at construction).
inline std::int64_t rshr_pos(std::int64_t x, int s) {
  return (x + (std::int64_t{1} << (s - 1))) >> s;
}

inline std::int64_t sat(std::int64_t x, std::int64_t lo, std::int64_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// A positive real constant c as q * 2^-shift with q < 2^max_bits (largest shift <= 62).
struct FxConst {
  std::int64_t q{0};
  int shift{0};
};
FxConst make_const(double c, int max_bits) {
  FxConst k{0, 1};
  if (c <= 0.0) return k;
  int e = 0;
  std::frexp(c, &e);  // c = f * 2^e, f in [0.5, 1)
  k.shift = std::min(62, max_bits - e);
  k.q = std::llround(std::ldexp(c, k.shift));
  if (k.q >= (std::int64_t{1} << max_bits)) {
    k.shift -= 1;
    k.q = std::llround(std::ldexp(c, k.shift));
  }
  if (k.shift < 1) {
    throw std::invalid_argument(fmt::format(
        "meta: constant {} too large for the fixed-point datapath (check meta.m_star, level "
        "spacing, meta.weight_decay, meta.lr)",
        c));
  }
  return k;
}

void check_n(std::size_t n_engine, std::size_t n) {
  if (n != n_engine) {
    throw std::invalid_argument(
        fmt::format("meta: accumulate() got {} gradients for {} weights", n, n_engine));
  }
}

class FixedEngineRef final : public MetaEngine {
 public:
  FixedEngineRef(const MetaParams& p, std::size_t n)
      : p_(p),
        q_(Quantizer::from(p)),
        lut_(p),
        n_(n),
        h_(n, 0),
        acc_(n, 0),
        m_(n, 0),
        v_(n, 0),
        lev_(n, 0) {
    if (n > std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("meta: too many weights");
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
    adam_ = p.optimizer == "adam";
    option_ = p.option.empty() ? 'B' : p.option[0];
    meta_on_ = p.m_star > 0.0;
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
    for (std::size_t i = 0; i < n_; ++i) set_hidden(i, 0.0);
  }

  std::size_t size() const override { return n_; }

  void init_uniform(Rng& rng, double a) override {
    for (std::size_t i = 0; i < n_; ++i) set_hidden(i, rng.uniform(-a, a));
    new_task();
    std::fill(acc_.begin(), acc_.end(), 0);
    count_ = 0;
  }

  void accumulate(const float* grad, std::size_t n) override {
    check_n(n_, n);
    const float scale = std::ldexp(1.0F, fg_);
    const std::int64_t lo = g_min_;
    const std::int64_t hi = g_max_;
    std::int32_t* acc = acc_.data();
    for (std::size_t i = 0; i < n; ++i) {
      // float -> fixed (round to nearest, saturating), then a saturating add into the
      // accumulator (same format as a gradient).
      const float s = std::min(std::max(grad[i] * scale, -4.0e9F), 4.0e9F);
      const std::int64_t g = std::llrint(s);  // round to nearest even
      acc[i] = static_cast<std::int32_t>(sat(acc[i] + sat(g, lo, hi), lo, hi));
    }
    ++count_;
  }

  void step(std::vector<LevelChange>& changes) override {
    ++t_;
    StepConst c;
    // Batch mean: acc * (1/count) with 1/count in Q0.32 (exact for count = 1).
    const std::uint64_t div = divisor_ > 0 ? divisor_ : count_;
    c.rc = div > 0 ? std::llround(std::ldexp(1.0 / static_cast<double>(div), 32)) : 0;
    count_ = 0;
    // Per-step scalar: alpha_t = lr sqrt(1-b2^t)/(1-b1^t) (computed once per step).
    const double td = static_cast<double>(t_);
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
    const bool meta = meta_on_;
    if (adam_) {
      if (!meta)
        run<'B', true, false>(c, changes);
      else if (option_ == 'A')
        run<'A', true, true>(c, changes);
      else if (option_ == 'B')
        run<'B', true, true>(c, changes);
      else
        run<'C', true, true>(c, changes);
    } else {
      if (!meta)
        run<'B', false, false>(c, changes);
      else if (option_ == 'A')
        run<'A', false, true>(c, changes);
      else if (option_ == 'B')
        run<'B', false, true>(c, changes);
      else
        run<'C', false, true>(c, changes);
    }
  }

  void new_task() override {
    std::fill(m_.begin(), m_.end(), 0);
    std::fill(v_.begin(), v_.end(), 0);
    t_ = 0;
  }
  void clear_accumulator() override {
    std::fill(acc_.begin(), acc_.end(), 0);
    count_ = 0;
  }
  void set_batch_divisor(std::uint32_t d) override { divisor_ = d; }
  const std::int8_t* levels() const override { return lev_.data(); }
  float level_value(int level) const override {
    return static_cast<float>(q_.values.at(static_cast<std::size_t>(level)));
  }
  float hidden(std::size_t i) const override {
    return static_cast<float>(std::ldexp(static_cast<double>(h_[i]), -fh_));
  }
  void set_hidden(std::size_t i, double w) override {
    const std::int64_t x =
        sat(std::llround(std::clamp(std::ldexp(w, fh_), -4e18, 4e18)), h_min_, h_max_);
    h_[i] = static_cast<std::int32_t>(x);
    int l = 0;
    for (auto t : thr_) l += (x >= t) ? 1 : 0;
    lev_[i] = static_cast<std::int8_t>(l);
  }
  MemoryBits memory_bits() const override { return meta::memory_bits(p_, n_); }
  std::uint64_t steps_in_task() const override { return t_; }
  const MetaParams& params() const override { return p_; }
  const Quantizer& quantizer() const override { return q_; }

 private:
  struct StepConst {
    std::int64_t rc{0};
    FxConst ka;
    int adam_shift{0};
    int sgd_shift{0};
    std::int64_t eps_v{1};
  };

  // Decode / encode the second moment's storage float: code = sh << S | mant, value =
  // mant << sh, mant < 2^S (S = v_sig_bits significant bits, explicit leading one).
  std::int64_t v_decode(std::uint32_t code) const {
    return static_cast<std::int64_t>(code & vmask_) << (code >> static_cast<unsigned>(vs_));
  }
  // Branch-free: v < 2^S is stored exactly (sh = 0); else rounded to S significant bits
  // (round half up), renormalised when the rounding carries into a new bit.
  std::uint32_t v_encode(std::int64_t v) const {
    const int e = 63 - __builtin_clzll(static_cast<std::uint64_t>(v) | 1U);
    int sh = std::max(e - vs_ + 1, 0);
    const std::int64_t half = sh > 0 ? (std::int64_t{1} << (sh - 1)) : 0;
    std::int64_t mant = (v + half) >> sh;
    const int carry = static_cast<int>(mant >> vs_);
    mant >>= carry;
    sh += carry;
    return (static_cast<std::uint32_t>(sh) << static_cast<unsigned>(vs_)) |
           static_cast<std::uint32_t>(mant);
  }

  // The per-weight datapath, specialised per option/optimizer (no per-weight dispatch),
  // run in blocks of kBlock weights as short passes over block-local arrays (so that the
  // CPU overlaps many weights' long dependency chains). Bit-exact: the passes compute
  // exactly the per-weight equations of docs/meta.md.
  template <char Opt, bool Adam, bool Meta>
  void run(const StepConst& c, std::vector<LevelChange>& changes) {
    const std::size_t L1 = thr_.size();
    const std::int64_t* thr = thr_.data();
    const std::int64_t h_min = h_min_;
    const std::int64_t h_max = h_max_;
    const std::int64_t g_min = g_min_;
    const std::int64_t g_max = g_max_;
    const std::int64_t m_min = m_min_;
    const std::int64_t m_max = m_max_;
    const std::int64_t c1 = c1_;
    const std::int64_t c2 = c2_;
    const std::int64_t mu = mu_;
    const FxConst wd = wd_;
    const FxConst kg = kglob_;
    const int rk = rk_;
    const std::uint64_t rmask = (std::uint64_t{1} << rk) - 1U;
    const int lut_frac = lut_.frac_bits();
    const std::int32_t* rsq = rsq_.data();
    const bool mean_one = c.rc == (std::int64_t{1} << 32);
    alignas(64) std::int64_t gb[kBlock];
    alignas(64) std::int64_t db[kBlock];
    alignas(64) std::uint64_t vb[kBlock];
    alignas(64) std::uint64_t xb[kBlock];
    alignas(64) std::int8_t lb[kBlock];
    alignas(64) std::int8_t ab[kBlock];
    for (std::size_t base = 0; base < n_; base += kBlock) {
      const std::size_t nb = std::min(kBlock, n_ - base);
      std::int32_t* hv = h_.data() + base;
      std::int32_t* acc = acc_.data() + base;
      std::int32_t* mv = m_.data() + base;
      std::uint32_t* vv = v_.data() + base;
      std::int8_t* lev = lev_.data() + base;
      // 1. gradient: batch mean, weight decay, saturation.
      if (mean_one) {
        for (std::size_t i = 0; i < nb; ++i) gb[i] = acc[i];
      } else {
        for (std::size_t i = 0; i < nb; ++i) {
          gb[i] = static_cast<std::int64_t>(
              (static_cast<__int128_t>(acc[i]) * c.rc + (std::int64_t{1} << 31)) >> 32);
        }
      }
      for (std::size_t i = 0; i < nb; ++i) {
        acc[i] = 0;
        gb[i] = sat(gb[i] + rshr_pos(hv[i] * wd.q, wd.shift), g_min, g_max);
      }
      // 2. optimizer.
      if constexpr (Adam) {
        for (std::size_t i = 0; i < nb; ++i) {
          const std::int64_t g = gb[i];
          const std::int64_t m0 = mv[i];
          const std::int64_t m = sat(m0 + rshr_pos(c1 * (g - m0), kQ), m_min, m_max);
          mv[i] = static_cast<std::int32_t>(m);
          gb[i] = m;
          // v: exact square (< 2^62), 128-bit EMA product, rounded to the storage float.
          const std::int64_t v0 = v_decode(vv[i]);
          const auto dv = static_cast<__int128_t>(c2) * static_cast<__int128_t>(g * g - v0);
          const std::int64_t v =
              v0 + static_cast<std::int64_t>((dv + (static_cast<__int128_t>(1) << (kQ - 1))) >> kQ);
          const std::uint32_t vc = v_encode(v < 0 ? 0 : v);
          vv[i] = vc;
          vb[i] = static_cast<std::uint64_t>(v_decode(vc) + c.eps_v);
        }
        // 1/sqrt(v + eps^2): normalise (leading one e), table on parity and rk bits.
        for (std::size_t i = 0; i < nb; ++i) {
          const std::uint64_t vx = vb[i];
          const int e = 63 - __builtin_clzll(vx);
          const int sh = e - rk;
          const std::uint64_t f =
              sh >= 0 ? (vx >> static_cast<unsigned>(sh)) : (vx << static_cast<unsigned>(-sh));
          const std::size_t idx =
              (static_cast<std::size_t>(e & 1) << rk) | static_cast<std::size_t>(f & rmask);
          const std::int64_t t = rshr_pos(gb[i] * rsq[idx], kR);
          db[i] = -rshr_pos(t * c.ka.q, c.adam_shift + (e >> 1));
        }
      } else {
        for (std::size_t i = 0; i < nb; ++i) {
          std::int64_t b = gb[i];
          if (mu != 0) {
            b = sat(rshr_pos(mu * mv[i], kQ) + b, m_min, m_max);
            mv[i] = static_cast<std::int32_t>(b);
          }
          db[i] = -rshr_pos(b * c.ka.q, c.sgd_shift);
        }
      }
      // 3. metaplastic attenuation: x = m* d / I (Q.16), f from the LUT, d *= f.
      if constexpr (Meta) {
        if constexpr (Opt == 'B') {
          for (std::size_t i = 0; i < nb; ++i) {
            const std::int64_t h = hv[i];
            const std::int64_t d = db[i];
            ab[i] = static_cast<std::int8_t>((h ^ d) < 0);  // shrinks |W| (h = 0: x = 0, f = 1)
            xb[i] = static_cast<std::uint64_t>(rshr_pos((h < 0 ? -h : h) * kg.q, kg.shift));
          }
        } else {
          for (std::size_t i = 0; i < nb; ++i) {
            const std::int64_t h = hv[i];
            const bool up = db[i] > 0;
            const int l0 = lev[i];
            const int ia = up ? l0 : l0 - 1;  // threshold ahead (-1 or L1: none)
            const int ib = up ? l0 - 1 : l0;  // threshold behind (sentinel: infinitely far)
            const std::int64_t ta = thr_pad_[static_cast<std::size_t>(ia + 1)];
            const std::int64_t tb = thr_pad_[static_cast<std::size_t>(ib + 1)];
            const std::int64_t da = std::min<std::int64_t>(up ? ta - h : h - ta, kFar);
            bool att = ia >= 0 && ia < static_cast<int>(L1);
            if constexpr (Opt == 'C') {
              const std::int64_t dbh = up ? h - tb : tb - h;
              att = att && da <= dbh;
            }
            ab[i] = static_cast<std::int8_t>(att);
            const FxConst k = kthr_pad_[static_cast<std::size_t>(ia + 1)];
            xb[i] = static_cast<std::uint64_t>(rshr_pos((da < 0 ? 0 : da) * k.q, k.shift));
          }
        }
        for (std::size_t i = 0; i < nb; ++i) {
          const std::int64_t d = db[i];
          const std::int64_t dat =
              rshr_pos(d * static_cast<std::int64_t>(lut_.eval_fx(xb[i])), lut_frac);
          db[i] = ab[i] ? dat : d;
        }
      }
      // 4. new hidden weight (saturating) and level.
      for (std::size_t i = 0; i < nb; ++i) {
        const std::int64_t hn = sat(hv[i] + db[i], h_min, h_max);
        hv[i] = static_cast<std::int32_t>(hn);
        int l = 0;
        if (L1 == 2) {  // ternary, the default
          l = (hn >= thr[0] ? 1 : 0) + (hn >= thr[1] ? 1 : 0);
        } else {
          for (std::size_t k = 0; k < L1; ++k) l += (hn >= thr[k]) ? 1 : 0;
        }
        lb[i] = static_cast<std::int8_t>(l);
      }
      // 5. level changes (8 levels at a time).
      std::size_t i = 0;
      for (; i + 8 <= nb; i += 8) {
        std::uint64_t a = 0;
        std::uint64_t b = 0;
        std::memcpy(&a, lev + i, 8);
        std::memcpy(&b, lb + i, 8);
        if (a == b) continue;
        for (std::size_t j = i; j < i + 8; ++j) {
          if (lev[j] != lb[j]) {
            lev[j] = lb[j];
            changes.push_back({static_cast<std::uint32_t>(base + j), lb[j]});
          }
        }
      }
      for (; i < nb; ++i) {
        if (lev[i] != lb[i]) {
          lev[i] = lb[i];
          changes.push_back({static_cast<std::uint32_t>(base + i), lb[i]});
        }
      }
    }
  }

  static constexpr std::size_t kBlock = 512;
  static constexpr int kQ = 28;                                // Q0.28 optimizer constants
  static constexpr std::int64_t kFar = std::int64_t{1} << 32;  // distance cap (sentinels)
  static constexpr int kR = 16;                                // Q0.16 1/sqrt table
  MetaParams p_;
  Quantizer q_;
  MetaLut lut_;
  std::size_t n_;
  std::vector<std::int32_t> h_;
  std::vector<std::int32_t> acc_;
  std::vector<std::int32_t> m_;
  std::vector<std::uint32_t> v_;  // storage-float codes
  std::vector<std::int8_t> lev_;
  std::vector<std::int64_t> thr_;
  std::vector<std::int64_t> thr_pad_;
  std::vector<FxConst> kthr_pad_;
  std::vector<FxConst> kthr_;
  FxConst kglob_;
  FxConst wd_;
  std::vector<std::int32_t> rsq_;
  int rk_{8};
  int fh_{13}, fg_{26}, fv_{52}, vs_{21};
  std::uint32_t vmask_{};
  std::int64_t h_min_{}, h_max_{}, g_min_{}, g_max_{}, m_min_{}, m_max_{};
  std::int64_t c1_{}, c2_{}, mu_{};
  bool adam_{true};
  char option_{'B'};
  bool meta_on_{true};
  std::uint64_t count_{0};
  std::uint64_t divisor_{0};
  std::uint64_t t_{0};
};

}  // namespace

std::unique_ptr<MetaEngine> make_fixed_ref(const MetaParams& p, std::size_t n) {
  return std::make_unique<FixedEngineRef>(p, n);
}

}  // namespace memplast::meta::ref
