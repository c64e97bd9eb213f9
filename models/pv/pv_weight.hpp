// Which devices one weight's level change programs, and to what: the per-weight half
// of program-and-verify, shared by the SystemC pv_ctrl (PvCtrl::execute, timed PvFsm
// per device) and the functional backend (program_verify per device, untimed).
// A weight's level maps to a pair of target conductances (TileCore::target_conductances);
// a device is programmed only when its target differs from the one it holds; its verify
// band is band_for() with the conductance step between adjacent weight levels.
#pragma once

#include <array>

#include "pv/pv_algo.hpp"
#include "tile/tile_core.hpp"

namespace memplast::pv {

struct DeviceWrite {
  tile::Side side{tile::Side::pos};
  double target_uS{0};
  PvBand band{};
};

struct WeightWrite {
  std::array<DeviceWrite, 2> devices{};  // the first `count` are programmed, pos first
  int count{0};
};

// The device writes taking a weight of `core` from `old_level` (-1: never programmed)
// to `level`: the pos device, and the neg device with the differential mapping (the
// reference column's cells are written by plan_reference_write).
WeightWrite plan_weight_write(const tile::TileCore& core, int old_level, int level,
                              const PvParams& p);
// The same from the tile's parameters (pv_ctrl, which holds no tile core).
WeightWrite plan_weight_write(const tile::TileParams& tp, int old_level, int level,
                              const PvParams& p);

// The write of one reference-column cell (tile.mapping = reference_column; Side::ref):
// target tile::reference_uS(tp) = (g_on + g_off)/2, band band_for() with the weight-level
// spacing and the middle weight level (L-1)/2 (the level whose target is g_ref for odd
// L). A reference cell is programmed like a weight device, once per row of a tile in
// use, before the weights (docs/pv.md "Reference column"). std::invalid_argument for the
// differential mapping (no reference column).
DeviceWrite plan_reference_write(const tile::TileParams& tp, const PvParams& p);

}  // namespace memplast::pv
