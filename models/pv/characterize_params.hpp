// Parameters of `memplast characterize` (keys "characterize.*"). Plain C++ so the
// configuration layer can include it. See docs/pv.md.
#pragma once

#include <cstdint>

#include "common/schema.hpp"

namespace memplast::pv {

struct CharacterizeParams {
  std::int64_t cells{0};   // weights programmed (a sample), 0 = every weight of the tile
  double relax_s{3600.0};  // second read-back this long after the end of programming
};

void bind_params(cfg::Schema& s, CharacterizeParams& p);

}  // namespace memplast::pv
