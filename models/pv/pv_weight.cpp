#include "pv/pv_weight.hpp"

#include <stdexcept>
#include <utility>

namespace memplast::pv {

namespace {
// Band spacing: the conductance step between adjacent weight levels.
double level_spacing_uS(const tile::TileParams& tp) {
  return tile::weight_unit_uS(tp) * 2.0 / static_cast<double>(tp.levels - 1);
}
}  // namespace

WeightWrite plan_weight_write(const tile::TileCore& core, int old_level, int level,
                              const PvParams& p) {
  (void)core.level_value(level);  // range check naming the tile
  return plan_weight_write(core.params(), old_level, level, p);
}

WeightWrite plan_weight_write(const tile::TileParams& tp, int old_level, int level,
                              const PvParams& p) {
  const auto tgt = tile::level_targets_uS(tp, level);
  const auto old_tgt =
      old_level >= 0 ? tile::level_targets_uS(tp, old_level) : std::make_pair(-1.0, -1.0);
  const double spacing = level_spacing_uS(tp);
  const tile::Side sides[2] = {tile::Side::pos, tile::Side::neg};
  const double targets[2] = {tgt.first, tgt.second};
  const double olds[2] = {old_tgt.first, old_tgt.second};
  const int n_sides = tile::parse_mapping(tp.mapping) == tile::Mapping::differential ? 2 : 1;
  WeightWrite w;
  for (int s = 0; s < n_sides; ++s) {
    if (targets[s] == olds[s]) continue;  // this device keeps its conductance
    w.devices[static_cast<std::size_t>(w.count++)] = {sides[s], targets[s],
                                                      band_for(targets[s], spacing, p, level)};
  }
  return w;
}

DeviceWrite plan_reference_write(const tile::TileParams& tp, const PvParams& p) {
  if (tile::parse_mapping(tp.mapping) != tile::Mapping::reference_column) {
    throw std::invalid_argument(
        "plan_reference_write: tile.mapping is not reference_column (no reference column)");
  }
  const double g_ref = tile::reference_uS(tp);
  const int mid = static_cast<int>((tp.levels - 1) / 2);
  return {tile::Side::ref, g_ref, band_for(g_ref, level_spacing_uS(tp), p, mid)};
}

}  // namespace memplast::pv
