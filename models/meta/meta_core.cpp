// The fixed-point and float metaplastic update engines. Number formats and the
// equations are in docs/meta.md; both engines follow the same structure so the tests
// can compare them step by step.
#include "meta/meta_core.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::meta {

// ---------------------------------------------------------------------------------
// Quantizer, meta function

Quantizer Quantizer::from(const MetaParams& p) {
  Quantizer q;
  const auto L = static_cast<std::size_t>(p.levels);
  if (p.level_values.empty()) {
    for (std::size_t i = 0; i < L; ++i) {
      q.values.push_back(-1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(L - 1));
    }
  } else {
    q.values = p.level_values;
  }
  for (std::size_t i = 0; i + 1 < q.values.size(); ++i) {
    q.thresholds.push_back(0.5 * (q.values[i] + q.values[i + 1]));
  }
  q.mean_interval = (q.values.back() - q.values.front()) / static_cast<double>(q.values.size() - 1);
  return q;
}

int Quantizer::level_of(double w) const {
  int l = 0;
  for (double t : thresholds) l += (w >= t) ? 1 : 0;
  return l;
}

double meta_f(double x) {
  const double t = std::tanh(x);
  return 1.0 - t * t;
}

MetaLut::MetaLut(const MetaParams& p) : frac_(static_cast<int>(p.lut_frac_bits)) {
  const auto n = static_cast<std::size_t>(p.lut_entries);
  const double h = p.lut_range / static_cast<double>(n);
  seg_shift_ = kXFrac + static_cast<int>(std::lround(std::log2(h)));
  if (seg_shift_ < 0 || std::ldexp(1.0, seg_shift_ - kXFrac) != h) {
    throw std::invalid_argument("meta.lut_range / meta.lut_entries must be a power of two >= 2^-16");
  }
  x_max_ = static_cast<std::uint64_t>(n) << static_cast<unsigned>(seg_shift_);
  table_.resize(n + 2);
  const double scale = std::ldexp(1.0, frac_);
  for (std::size_t k = 0; k <= n; ++k) {
    table_[k] = static_cast<std::uint32_t>(std::lround(meta_f(static_cast<double>(k) * h) * scale));
  }
  table_[n + 1] = table_[n];  // padding read (with weight 0) at x = lut_range
  // Error bound (docs/meta.md): linear interpolation of f with |f''| <= 2 errs by at most
  // h^2/8 * 2; table rounding 2^-(frac+1); interpolation product rounding 2^-(frac+1);
  // x quantised to 2^-kXFrac with |f'| <= 4/(3 sqrt 3) < 0.77 (only in eval(double));
  // beyond the range the true f is at most f(range).
  bound_ = h * h / 4.0 + std::ldexp(1.0, -frac_) + 0.77 * std::ldexp(1.0, -kXFrac - 1) +
           meta_f(p.lut_range);
}

double MetaLut::eval(double x) const {
  const auto x_fx = static_cast<std::uint64_t>(std::llround(std::max(0.0, x) * std::ldexp(1.0, kXFrac)));
  return std::ldexp(static_cast<double>(eval_fx(x_fx)), -frac_);
}

MemoryBits memory_bits(const MetaParams& p, std::size_t n) {
  MemoryBits b;
  const auto nn = static_cast<std::uint64_t>(n);
  b.hidden = nn * static_cast<std::uint64_t>(p.hidden_bits);
  std::uint64_t opt = 0;
  if (p.optimizer == "adam") {
    opt = static_cast<std::uint64_t>(p.m_bits + 6 + p.v_sig_bits);
  } else if (p.momentum > 0.0) {
    opt = static_cast<std::uint64_t>(p.m_bits);
  }
  b.optimizer = nn * opt;
  b.gradient = nn * static_cast<std::uint64_t>(p.grad_bits);
  std::uint64_t lb = 0;
  while ((std::int64_t{1} << lb) < p.levels) ++lb;
  b.stored = nn * lb;
  return b;
}

namespace {

// Rounding right shift (round half up); negative s shifts left.
inline std::int64_t rshr(std::int64_t x, int s) {
  if (s <= 0) return x * (std::int64_t{1} << (-s));
  return (x + (std::int64_t{1} << (s - 1))) >> s;
}
// The same for s >= 1 (every shift of the datapath; checked at construction).
inline std::int64_t rshr_pos(std::int64_t x, int s) { return (x + (std::int64_t{1} << (s - 1))) >> s; }

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

}  // namespace

// 1 - tanh^2(x) = 4e/(1+e)^2, e = exp(-2x), for 0 <= x <= 40, in float with a
// branch-free exp (Cephes expf polynomial, about 1 ulp) that the compiler vectorises.
float meta_f_float(float x) {
  const float y = -2.0F * x;  // in [-80, 0]
  const float t = y * 1.44269504088896341F;
  const auto n = static_cast<std::int32_t>(t - 0.5F);  // round (t <= 0)
  const float nf = static_cast<float>(n);
  float r = y - nf * 0.693359375F;
  r = r - nf * -2.12194440e-4F;
  float p = 1.9875691500E-4F;
  p = p * r + 1.3981999507E-3F;
  p = p * r + 8.3334519073E-3F;
  p = p * r + 4.1665795894E-2F;
  p = p * r + 1.6666665459E-1F;
  p = p * r + 5.0000001201E-1F;
  p = p * r * r + r + 1.0F;
  const std::int32_t bits = (n + 127) << 23;
  float scale = 0.0F;
  std::memcpy(&scale, &bits, 4);
  const float e = p * scale;
  const float onep = 1.0F + e;
  return 4.0F * e / (onep * onep);
}

namespace {

// Copy the new levels lb[0..nb) of a block into lev[0..nb) and append a change for
// every weight whose level differs (compared 8 levels at a time; both engines).
void commit_levels(std::int8_t* lev, const std::int8_t* lb, std::size_t nb, std::size_t base,
                   std::vector<LevelChange>& changes) {
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

// Target of the AVX-512 build of FixedEngine's step (selected at run time).
#if defined(__x86_64__) && defined(__GNUC__)
#define MEMPLAST_META_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512dq,avx512cd,avx512bw,avx512vl,avx2,bmi,bmi2,lzcnt,popcnt")))
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}
#else
#define MEMPLAST_META_TARGET_AVX512
bool cpu_has_avx512() { return false; }
#endif

// Option B on a block: steps that shrink |h| scaled by f(m*|h|/I).
void attenuate_b(const float* __restrict hb, float* __restrict db, float kg, std::size_t nb) {
  for (std::size_t i = 0; i < nb; ++i) {
    const float h = hb[i];
    const float d = db[i];
    const bool att = ((h > 0.0F) & (d < 0.0F)) | ((h < 0.0F) & (d > 0.0F));
    const float x = std::min(std::fabs(h) * kg, 40.0F);
    db[i] = d * (att ? meta_f_float(x) : 1.0F);
  }
}

// Options A and C on a block, given the thresholds above (nxt, 1e30 if none) and below
// (prv, -1e30 if none) each weight and their m*/I (0 where there is no threshold, so
// that x = 0 and f = 1: no attenuation).
template <bool OptC>
void attenuate_ac(const float* __restrict hb, float* __restrict db, const float* __restrict nxt,
                  const float* __restrict prv, const float* __restrict knx,
                  const float* __restrict kpv, std::size_t nb) {
  for (std::size_t i = 0; i < nb; ++i) {
    const float h = hb[i];
    const float d = db[i];
    const bool up = d > 0.0F;
    const float dup = nxt[i] - h;  // to the threshold above
    const float ddn = h - prv[i];  // to the threshold below
    const float da = up ? dup : ddn;   // ahead
    const float dbh = up ? ddn : dup;  // behind
    const float kn = knx[i];
    const float kq = kpv[i];
    const float x = std::min(std::max(da, 0.0F) * (up ? kn : kq), 40.0F);
    float f = meta_f_float(x);
    if constexpr (OptC) f = (da <= dbh) ? f : 1.0F;
    db[i] = d * f;
  }
}

void check_n(std::size_t n_engine, std::size_t n) {
  if (n != n_engine) {
    throw std::invalid_argument(
        fmt::format("meta: accumulate() got {} gradients for {} weights", n, n_engine));
  }
}

// ---------------------------------------------------------------------------------
// Fixed-point engine

class FixedEngine final : public MetaEngine {
 public:
  FixedEngine(const MetaParams& p, std::size_t n)
      : p_(p), q_(Quantizer::from(p)), lut_(p), n_(n), h_(n, 0), acc_(n, 0), m_(n, 0), v_(n, 0),
        lev_(n, 0) {
    if (n > std::numeric_limits<std::uint32_t>::max()) throw std::invalid_argument("meta: too many weights");
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
    for (double t : q_.thresholds) thr_.push_back(static_cast<std::int64_t>(std::ceil(std::ldexp(t, fh_))));
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
    // MEMPLAST_META_ISA=generic forces the baseline build of the step (tests compare both).
    const char* isa = std::getenv("MEMPLAST_META_ISA");
    use_avx512_ = cpu_has_avx512() && !(isa != nullptr && std::strcmp(isa, "generic") == 0);
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
    // Same dispatch as step(): the float part is one exact IEEE multiply by 2^Fg, a clamp
    // and a round-to-nearest-even conversion, identical in scalar and SIMD code.
    if (use_avx512_) {
      accumulate_avx512(grad, n);
    } else {
      accumulate_generic(grad, n);
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
        adam_ ? p_.lr * std::sqrt(1.0 - std::pow(p_.beta2, td)) / (1.0 - std::pow(p_.beta1, td)) : p_.lr;
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
      if (!meta) run<'B', true, false>(c, changes);
      else if (option_ == 'A') run<'A', true, true>(c, changes);
      else if (option_ == 'B') run<'B', true, true>(c, changes);
      else run<'C', true, true>(c, changes);
    } else {
      if (!meta) run<'B', false, false>(c, changes);
      else if (option_ == 'A') run<'A', false, true>(c, changes);
      else if (option_ == 'B') run<'B', false, true>(c, changes);
      else run<'C', false, true>(c, changes);
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
    const std::int64_t x = sat(std::llround(std::clamp(std::ldexp(w, fh_), -4e18, 4e18)), h_min_, h_max_);
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

  // The second moment's storage float (decoded / encoded inline in run_body): code =
  // sh << S | mant, value = mant << sh, mant < 2^S (S = v_sig_bits significant bits,
  // explicit leading one).

  // The per-weight datapath, specialised per option/optimizer (no per-weight dispatch),
  // run in blocks of kBlock weights as short, branch-free passes over block-local int64
  // arrays that the vectoriser turns into SIMD code. Bit-exact: the passes compute exactly
  // the per-weight equations of docs/meta.md (and tb/unit/meta_fixed_ref.cpp, the frozen
  // pre-optimisation implementation, is checked against this one bit for bit).
  //
  // run_body is compiled twice: run_generic (the build's baseline ISA, SSE2 in release)
  // and run_avx512 (target attribute, selected at run time when the CPU has AVX-512
  // F/DQ/CD/BW/VL). The datapath is integer-only, so the two are bit-identical by
  // construction: every operation is an exact int64 operation with no overflow (bounds in
  // the comments) and every shift count is in [0, 63] (the AVX-512 path is used only when
  // the per-step shifts are proven to be, see step_shifts_ok()).
  template <char Opt, bool Adam, bool Meta>
  void run(const StepConst& c, std::vector<LevelChange>& changes) {
    if (use_avx512_ && step_shifts_ok(c)) {
      run_avx512<Opt, Adam, Meta>(c, changes);
    } else {
      run_generic<Opt, Adam, Meta>(c, changes);
    }
  }
  template <char Opt, bool Adam, bool Meta>
  __attribute__((noinline)) void run_generic(const StepConst& c, std::vector<LevelChange>& changes) {
    run_body<Opt, Adam, Meta>(c, changes);
  }
  template <char Opt, bool Adam, bool Meta>
  __attribute__((noinline)) MEMPLAST_META_TARGET_AVX512 void run_avx512(const StepConst& c,
                                                                          std::vector<LevelChange>& changes) {
    run_body<Opt, Adam, Meta>(c, changes);
  }

  __attribute__((noinline)) void accumulate_generic(const float* grad, std::size_t n) { accumulate_body(grad, n); }
  __attribute__((noinline)) MEMPLAST_META_TARGET_AVX512 void accumulate_avx512(const float* grad, std::size_t n) {
    accumulate_body(grad, n);
  }
  __attribute__((always_inline)) inline void accumulate_body(const float* __restrict grad, std::size_t n) {
    const float scale = std::ldexp(1.0F, fg_);
    const std::int64_t lo = g_min_;
    const std::int64_t hi = g_max_;
    std::int32_t* __restrict acc = acc_.data();
    for (std::size_t i = 0; i < n; ++i) {
      // float -> fixed (round to nearest, saturating), then a saturating add into the
      // accumulator (same format as a gradient).
      const float s = std::min(std::max(grad[i] * scale, -4.0e9F), 4.0e9F);
      const std::int64_t g = std::llrint(s);  // round to nearest even
      acc[i] = static_cast<std::int32_t>(sat(acc[i] + sat(g, lo, hi), lo, hi));
    }
  }

  // Largest per-lane shift of the step is c.adam_shift + (e >> 1) with e <= 63 (the leading
  // one of v + eps), and c.sgd_shift; the others are construction-time constants <= 62.
  static bool step_shifts_ok(const StepConst& c) {
    return c.adam_shift >= 1 && c.adam_shift + 31 <= 62 && c.sgd_shift >= 1 && c.sgd_shift <= 62;
  }

  template <char Opt, bool Adam, bool Meta>
  __attribute__((always_inline)) inline void run_body(const StepConst& c, std::vector<LevelChange>& changes) {
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
    for (std::size_t base = 0; base < n_; base += kBlock) {
      const std::size_t nb = std::min(kBlock, n_ - base);
      std::int32_t* __restrict hv = h_.data() + base;
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
          const std::int64_t wdt = (static_cast<std::int64_t>(hv[i]) * wdq + (std::int64_t{1} << (wds - 1))) >> wds;
          gb[i] = sat(g + wdt, g_min, g_max);
          acc[i] = 0;
        }
      } else {
        for (std::size_t i = 0; i < nb; ++i) {
          const std::int64_t g = (static_cast<std::int64_t>(acc[i]) * rc + (std::int64_t{1} << 31)) >> 32;
          const std::int64_t wdt = (static_cast<std::int64_t>(hv[i]) * wdq + (std::int64_t{1} << (wds - 1))) >> wds;
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
          const std::int64_t m = sat(m0 + ((c1 * (g - m0) + (std::int64_t{1} << (kQ - 1))) >> kQ), m_min, m_max);
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
          const std::int64_t e = 63 - static_cast<std::int64_t>(__builtin_clzll(static_cast<std::uint64_t>(vx) | 1U));
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
      // 5. level changes.
      commit_levels(lev, lb, nb, base, changes);
    }
  }

  static constexpr std::size_t kBlock = 512;
  static constexpr int kQ = 28;        // Q0.28 optimizer constants
  static constexpr std::int64_t kFar = std::int64_t{1} << 32;  // distance cap (sentinels)
  static constexpr int kR = 16;  // Q0.16 1/sqrt table
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
  std::vector<std::int64_t> rsq64_;    // rsq_ widened (int64 vector lanes)
  std::vector<std::int64_t> kq_pad_;   // kthr_pad_ split into q and shift (vector lanes)
  std::vector<std::int64_t> ks_pad_;
  std::vector<std::int64_t> lut_tab_;  // MetaLut's table (read back via eval_fx), padded
  int lut_seg_{0};                     // MetaLut's segment shift
  std::uint64_t lut_xmax_{0};          // MetaLut's x clamp
  bool use_avx512_{false};             // run the AVX-512 build of the step (CPU has it)
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

// ---------------------------------------------------------------------------------
// Float reference

class FloatEngine final : public MetaEngine {
 public:
  FloatEngine(const MetaParams& p, std::size_t n)
      : p_(p), q_(Quantizer::from(p)), n_(n), h_(n, 0.0F), acc_(n, 0.0F), m_(n, 0.0F), v_(n, 0.0F),
        lev_(n, 0) {
    if (n > std::numeric_limits<std::uint32_t>::max()) throw std::invalid_argument("meta: too many weights");
    for (double t : q_.thresholds) thr_.push_back(static_cast<float>(t));
    for (std::size_t k = 0; k < thr_.size(); ++k) {
      kthr_.push_back(static_cast<float>(p.m_star / (q_.values[k + 1] - q_.values[k])));
    }
    kglob_ = static_cast<float>(p.m_star / q_.mean_interval);
    for (float k : kthr_) uniform_ = uniform_ && k == kthr_[0];
    adam_ = p.optimizer == "adam";
    option_ = p.option.empty() ? 'B' : p.option[0];
    meta_on_ = p.m_star > 0.0;
    for (std::size_t i = 0; i < n_; ++i) lev_[i] = static_cast<std::int8_t>(level_of(0.0F));
  }

  std::size_t size() const override { return n_; }
  void init_uniform(Rng& rng, double a) override {
    for (std::size_t i = 0; i < n_; ++i) set_hidden(i, rng.uniform(-a, a));
    new_task();
    std::fill(acc_.begin(), acc_.end(), 0.0F);
    count_ = 0;
  }
  void accumulate(const float* grad, std::size_t n) override {
    check_n(n_, n);
    float* acc = acc_.data();
    for (std::size_t i = 0; i < n; ++i) acc[i] += grad[i];
    ++count_;
  }
  void step(std::vector<LevelChange>& changes) override {
    ++t_;
    const std::uint64_t div = divisor_ > 0 ? divisor_ : count_;
    const float inv = div > 0 ? 1.0F / static_cast<float>(div) : 0.0F;
    count_ = 0;
    if (!meta_on_) {
      if (adam_) run<'B', true, false>(inv, changes);
      else run<'B', false, false>(inv, changes);
    } else if (option_ == 'A') {
      if (adam_) run<'A', true, true>(inv, changes);
      else run<'A', false, true>(inv, changes);
    } else if (option_ == 'B') {
      if (adam_) run<'B', true, true>(inv, changes);
      else run<'B', false, true>(inv, changes);
    } else {
      if (adam_) run<'C', true, true>(inv, changes);
      else run<'C', false, true>(inv, changes);
    }
  }

  // Processed in blocks of kBlock weights, each pass a simple loop over the block that
  // the compiler vectorises (no per-weight branches); then a scalar scan for changes.
  template <char Opt, bool Adam, bool Meta>
  void run(float inv, std::vector<LevelChange>& changes) {
    const auto lr = static_cast<float>(p_.lr);
    const auto b1 = static_cast<float>(p_.beta1);
    const auto b2 = static_cast<float>(p_.beta2);
    const auto eps = static_cast<float>(p_.eps);
    const auto wd = static_cast<float>(p_.weight_decay);
    const auto mu = static_cast<float>(p_.momentum);
    const double td = static_cast<double>(t_);
    const auto bc1 = static_cast<float>(1.0 - std::pow(p_.beta1, td));
    const auto bc2 = static_cast<float>(1.0 - std::pow(p_.beta2, td));
    const std::size_t L1 = thr_.size();
    const float kg = kglob_;
    constexpr float kInf = 1e30F;
    alignas(64) float hb[kBlock];
    alignas(64) float db[kBlock];
    alignas(64) float nxt[kBlock];
    alignas(64) float prv[kBlock];
    alignas(64) float knx[kBlock];
    alignas(64) float kpv[kBlock];
    alignas(64) std::int8_t lb[kBlock];
    for (std::size_t base = 0; base < n_; base += kBlock) {
      const std::size_t nb = std::min(kBlock, n_ - base);
      float* hv = h_.data() + base;
      float* acc = acc_.data() + base;
      float* mv = m_.data() + base;
      float* vv = v_.data() + base;
      // 1. gradient, optimizer, step.
      for (std::size_t i = 0; i < nb; ++i) {
        const float h = hv[i];
        const float g = acc[i] * inv + wd * h;
        acc[i] = 0.0F;
        hb[i] = h;
        if constexpr (Adam) {
          const float m = b1 * mv[i] + (1.0F - b1) * g;
          const float v = b2 * vv[i] + (1.0F - b2) * g * g;
          mv[i] = m;
          vv[i] = v;
          db[i] = -lr * (m / bc1) / (std::sqrt(v / bc2) + eps);
        } else {
          const float b = mu * mv[i] + g;  // mu = 0: plain SGD (m stays unused)
          mv[i] = b;
          db[i] = -lr * b;
        }
      }
      // 2. metaplastic attenuation.
      if constexpr (Meta) {
        if constexpr (Opt != 'B') {
          // Threshold above (smallest T > h) and below (largest T <= h) with their m*/I.
          for (std::size_t i = 0; i < nb; ++i) {
            nxt[i] = kInf;
            prv[i] = -kInf;
          }
          for (std::size_t k = 0; k < L1; ++k) {
            const float t = thr_[k];
            for (std::size_t i = 0; i < nb; ++i) {
              prv[i] = std::max(prv[i], t <= hb[i] ? t : -kInf);
              nxt[i] = std::min(nxt[i], t > hb[i] ? t : kInf);
            }
          }
          if (uniform_) {
            const float k0 = kthr_[0];
            for (std::size_t i = 0; i < nb; ++i) {
              knx[i] = nxt[i] < kInf ? k0 : 0.0F;
              kpv[i] = prv[i] > -kInf ? k0 : 0.0F;
            }
          } else {
            for (std::size_t i = 0; i < nb; ++i) {
              knx[i] = 0.0F;
              kpv[i] = 0.0F;
              for (std::size_t k = 0; k < L1; ++k) {
                if (thr_[k] == nxt[i]) knx[i] = kthr_[k];
                if (thr_[k] == prv[i]) kpv[i] = kthr_[k];
              }
            }
          }
        }
        if constexpr (Opt == 'B') {
          attenuate_b(hb, db, kg, nb);
        } else {
          attenuate_ac<Opt == 'C'>(hb, db, nxt, prv, knx, kpv, nb);
        }
      }
      // 3. new hidden weight and level.
      for (std::size_t i = 0; i < nb; ++i) {
        hv[i] = hb[i] + db[i];
        lb[i] = 0;
      }
      for (std::size_t k = 0; k < L1; ++k) {
        const float t = thr_[k];
        for (std::size_t i = 0; i < nb; ++i) lb[i] = static_cast<std::int8_t>(lb[i] + (hv[i] >= t ? 1 : 0));
      }
      // 4. level changes.
      commit_levels(lev_.data() + base, lb, nb, base, changes);
    }
  }
  static constexpr std::size_t kBlock = 512;

  void new_task() override {
    std::fill(m_.begin(), m_.end(), 0.0F);
    std::fill(v_.begin(), v_.end(), 0.0F);
    t_ = 0;
  }
  void clear_accumulator() override {
    std::fill(acc_.begin(), acc_.end(), 0.0F);
    count_ = 0;
  }
  void set_batch_divisor(std::uint32_t d) override { divisor_ = d; }
  const std::int8_t* levels() const override { return lev_.data(); }
  float level_value(int level) const override {
    return static_cast<float>(q_.values.at(static_cast<std::size_t>(level)));
  }
  float hidden(std::size_t i) const override { return h_[i]; }
  void set_hidden(std::size_t i, double w) override {
    h_[i] = static_cast<float>(w);
    lev_[i] = static_cast<std::int8_t>(level_of(h_[i]));
  }
  MemoryBits memory_bits() const override {
    // float32 storage of everything (the software baseline, not the hardware).
    MemoryBits b;
    const auto nn = static_cast<std::uint64_t>(n_);
    b.hidden = 32 * nn;
    b.optimizer = (adam_ ? 64U : (p_.momentum > 0.0 ? 32U : 0U)) * nn;
    b.gradient = 32 * nn;
    b.stored = meta::memory_bits(p_, n_).stored;
    return b;
  }
  std::uint64_t steps_in_task() const override { return t_; }
  const MetaParams& params() const override { return p_; }
  const Quantizer& quantizer() const override { return q_; }

 private:
  int level_of(float w) const {
    int l = 0;
    for (float t : thr_) l += (w >= t) ? 1 : 0;
    return l;
  }
  MetaParams p_;
  Quantizer q_;
  std::size_t n_;
  std::vector<float> h_, acc_, m_, v_;
  std::vector<std::int8_t> lev_;
  std::vector<float> thr_, kthr_;
  float kglob_{1.0F};
  bool uniform_{true};  // every interval has the same width
  bool adam_{true};
  char option_{'B'};
  bool meta_on_{true};
  std::uint64_t count_{0};
  std::uint64_t divisor_{0};
  std::uint64_t t_{0};
};

}  // namespace

std::unique_ptr<MetaEngine> make_fixed(const MetaParams& p, std::size_t n) {
  return std::make_unique<FixedEngine>(p, n);
}
std::unique_ptr<MetaEngine> make_float(const MetaParams& p, std::size_t n) {
  return std::make_unique<FloatEngine>(p, n);
}
std::unique_ptr<MetaEngine> make_engine(const MetaParams& p, std::size_t n) {
  return p.arithmetic == "float" ? make_float(p, n) : make_fixed(p, n);
}

}  // namespace memplast::meta
