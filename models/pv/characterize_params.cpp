#include "pv/characterize_params.hpp"

namespace memplast::pv {

void bind_params(cfg::Schema& s, CharacterizeParams& p) {
  s.add("characterize.cells", &p.cells, 0, 100000000, "weights",
        "Weights of the tile programmed by `memplast characterize` (the first N in row-major "
        "order, levels assigned round-robin); 0 = every weight",
        "assumption: the whole tile, as a silicon characterization would");
  s.add("characterize.relax_s", &p.relax_s, 0.0, 1e9, "s",
        "Time after the end of programming at which the tile is read back a second time "
        "(post-programming relaxation)",
        "assumption: one hour, inside the hours-scale drift of calibration.md (Esmanhotto 2022)");
}

}  // namespace memplast::pv
