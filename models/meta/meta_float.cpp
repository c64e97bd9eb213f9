// The float32 reference engine (make_float): the same update as the fixed-point
// datapath with exact 1 - tanh^2, sqrt and division; the software baseline (docs/meta.md).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

#include "meta/meta_core.hpp"
#include "meta/meta_detail.hpp"

namespace memplast::meta {

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

using detail::check_n;
using detail::commit_levels;

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
    const float dup = nxt[i] - h;      // to the threshold above
    const float ddn = h - prv[i];      // to the threshold below
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

class FloatEngine final : public MetaEngine {
 public:
  FloatEngine(const MetaParams& p, std::size_t n)
      : p_(p),
        q_(Quantizer::from(p)),
        n_(n),
        h_(n, 0.0F),
        acc_(n, 0.0F),
        m_(n, 0.0F),
        v_(n, 0.0F),
        lev_(n, 0) {
    if (n > std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("meta: too many weights");
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
      if (adam_)
        run<'B', true, false>(inv, changes);
      else
        run<'B', false, false>(inv, changes);
    } else if (option_ == 'A') {
      if (adam_)
        run<'A', true, true>(inv, changes);
      else
        run<'A', false, true>(inv, changes);
    } else if (option_ == 'B') {
      if (adam_)
        run<'B', true, true>(inv, changes);
      else
        run<'B', false, true>(inv, changes);
    } else {
      if (adam_)
        run<'C', true, true>(inv, changes);
      else
        run<'C', false, true>(inv, changes);
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
        for (std::size_t i = 0; i < nb; ++i)
          lb[i] = static_cast<std::int8_t>(lb[i] + (hv[i] >= t ? 1 : 0));
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
  void state_io(StateIO& io) override {
    io.section("meta_float");
    io.vec("h", h_);
    io.vec("acc", acc_);
    io.vec("m", m_);
    io.vec("v", v_);
    io.vec("lev", lev_);
    io.value("count", count_);
    io.value("divisor", divisor_);
    io.value("t", t_);
  }

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

std::unique_ptr<MetaEngine> make_float(const MetaParams& p, std::size_t n) {
  return std::make_unique<FloatEngine>(p, n);
}

}  // namespace memplast::meta
