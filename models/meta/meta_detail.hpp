// Internals shared by the metaplasticity engines (meta_core.cpp, meta_fixed*.cpp,
// meta_float.cpp); not part of the public interface (meta_core.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
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

}  // namespace memplast::meta::detail
