// The quantizer, the meta function (exact, and its LUT), storage bits, the helpers
// both engines share, and the engine factory. The engines: meta_fixed.cpp (+ its
// ISA-specific builds in meta_fixed_simd.cpp) and meta_float.cpp. Number formats and the
// equations are in docs/meta.md.
#include "meta/meta_core.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "meta/meta_detail.hpp"

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
    throw std::invalid_argument(
        "meta.lut_range / meta.lut_entries must be a power of two >= 2^-16");
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
  const auto x_fx =
      static_cast<std::uint64_t>(std::llround(std::max(0.0, x) * std::ldexp(1.0, kXFrac)));
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

namespace detail {

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

void check_n(std::size_t n_engine, std::size_t n) {
  if (n != n_engine) {
    throw std::invalid_argument(
        fmt::format("meta: accumulate() got {} gradients for {} weights", n, n_engine));
  }
}

}  // namespace detail

std::unique_ptr<MetaEngine> make_engine(const MetaParams& p, std::size_t n) {
  return p.arithmetic == "float" ? make_float(p, n) : make_fixed(p, n);
}

void MetaEngine::state_io(StateIO& io) {
  throw std::runtime_error(io.origin() + ": this metaplasticity engine has no checkpoint support");
}

}  // namespace memplast::meta
