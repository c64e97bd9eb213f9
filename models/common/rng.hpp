// Seeded random streams. One global seed in the configuration; each module (and,
// where needed, each cell) derives its own stream from that seed and its name, so
// adding a module or reordering draws in one module never changes another's stream.
// The generator (xoshiro256++) and the distributions are our own code, so a seed
// gives the same numbers on every platform and standard library.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace memplast {

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

// FNV-1a over the name, then mixed: a stable 64-bit hash of a module name.
constexpr std::uint64_t name_hash(std::string_view name) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

// Seed of the stream named `name` (e.g. "top.tile3.device"), optionally indexed
// (e.g. per cell), under the global seed.
constexpr std::uint64_t derive_seed(std::uint64_t global_seed, std::string_view name,
                                    std::uint64_t index = 0) {
  std::uint64_t s = global_seed ^ name_hash(name);
  std::uint64_t a = splitmix64(s);
  s = a ^ (index * 0xD1B54A32D192ED03ULL);
  return splitmix64(s);
}

class Rng {
 public:
  Rng() : Rng(0) {}
  explicit Rng(std::uint64_t seed) { reseed(seed); }
  Rng(std::uint64_t global_seed, std::string_view name, std::uint64_t index = 0)
      : Rng(derive_seed(global_seed, name, index)) {}

  void reseed(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
    spare_ = kNoSpare;
  }

  // xoshiro256++ (Blackman & Vigna).
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17U;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Unbiased integer in [0, n) (Lemire's method).
  std::uint64_t below(std::uint64_t n) {
    __uint128_t m = static_cast<__uint128_t>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<__uint128_t>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64U);
  }

  // Standard normal (Marsaglia polar method, spare kept).
  double normal() {
    if (spare_ != kNoSpare) {
      double z = 0;
      std::memcpy(&z, &spare_, sizeof z);
      spare_ = kNoSpare;
      return z;
    }
    double u = 0;
    double v = 0;
    double s = 0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    const double z = v * f;  // finite, so never the kNoSpare bit pattern (a NaN)
    std::memcpy(&spare_, &z, sizeof spare_);
    return u * f;
  }
  double normal(double mean, double sigma) { return mean + sigma * normal(); }

  // Log-normal with the given median and sigma of the underlying normal.
  double lognormal(double median, double sigma_ln) {
    return median * std::exp(sigma_ln * normal());
  }

  bool bernoulli(double p) { return uniform() < p; }

  // The whole generator state (checkpoints): the 4 words, the spare normal's bits and
  // whether it is pending.
  [[nodiscard]] std::array<std::uint64_t, 6> raw_state() const {
    const bool has = spare_ != kNoSpare;
    return {s_[0], s_[1], s_[2], s_[3], has ? spare_ : 0U, has ? 1U : 0U};
  }
  void set_raw_state(const std::array<std::uint64_t, 6>& r) {
    for (int i = 0; i < 4; ++i) s_[i] = r[static_cast<std::size_t>(i)];
    spare_ = r[5] != 0 ? r[4] : kNoSpare;
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
  }
  // No pending spare normal: a quiet-NaN bit pattern normal() never produces. The spare
  // is kept as its bits (one word, no flag) so that a generator is 40 bytes: the
  // device model holds one per cell.
  static constexpr std::uint64_t kNoSpare = 0x7FF8DEADBEEF0001ULL;
  std::uint64_t s_[4]{};
  std::uint64_t spare_{kNoSpare};
};

}  // namespace memplast
