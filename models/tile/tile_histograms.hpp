// The run's device histograms for the report (histograms.json, docs/report.md), built
// the same way in both modes from the tiles of each layer:
//  * conductance per weight level: the conductance a weight's devices represent,
//    G+ - G- (differential) or G - G_ref (reference column), noiseless, at time t_s,
//    in one histogram per level the weight is programmed to;
//  * ADC input per layer: the tiles' ADC input histograms (TileCore::adc_input_histogram)
//    summed over the layer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/histogram.hpp"
#include "tile/mapping.hpp"

namespace memplast::tile {

using TileOf = std::function<const TileCore&(int tile)>;

// One histogram per level (levels of `params`), over +-1.4 (g_on - g_off), 140 bins.
std::vector<ValueHistogram> make_conductance_histograms(const TileParams& params);

// Adds every weight (row, col) of a layer placed by `pl`, programmed to level
// levels[row * layer_cols + col] (a negative level: never programmed, skipped).
void add_conductance_by_level(const Placement& pl, const TileOf& tile_of, const std::int8_t* levels,
                              double t_s, std::vector<ValueHistogram>& by_level);

// Sum of the ADC input histograms (direction dir) of a layer's tiles.
ValueHistogram layer_adc_input(const Placement& pl, const TileOf& tile_of, Direction dir);

// One layer as histograms_json sees it.
struct LayerTiles {
  const Placement* placement{nullptr};
  TileOf tile_of;
  const std::int8_t* levels{nullptr};  // layer_rows x layer_cols, the programmed levels
};

// histograms.json's content: "conductance" (per level, all layers) and "adc_input" (per
// layer, forward MVMs; left out when no tile converted anything, e.g. ideal converters).
std::string histograms_json(const std::vector<LayerTiles>& layers, const TileParams& params,
                            double t_s);

// adc_profile.json's content (tile.adc_range = profile_*): per layer and direction, each
// tile's profiling histogram (TileCore::adc_profile), profiling step, chosen range.
std::string adc_profile_json(const std::vector<LayerTiles>& layers, const TileParams& params);

}  // namespace memplast::tile
