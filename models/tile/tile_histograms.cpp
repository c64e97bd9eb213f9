#include "tile/tile_histograms.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace memplast::tile {

std::vector<ValueHistogram> make_conductance_histograms(const TileParams& params) {
  const double span = 1.4 * (params.g_on_uS - params.g_off_uS);
  std::vector<ValueHistogram> h;
  for (unsigned k = 0; k < params.levels; ++k) h.push_back(value_histogram(140, -span, span));
  return h;
}

void add_conductance_by_level(const Placement& pl, const TileOf& tile_of, const std::int8_t* levels,
                              double t_s, std::vector<ValueHistogram>& by_level) {
  for (const auto& b : pl.blocks) {
    const TileCore& t = tile_of(b.tile);
    const bool diff = t.mapping() == Mapping::differential;
    for (int r = 0; r < b.n_rows; ++r) {
      for (int c = 0; c < b.n_cols; ++c) {
        const std::size_t w =
            static_cast<std::size_t>(b.row0 + r) * static_cast<std::size_t>(pl.layer_cols) +
            static_cast<std::size_t>(b.col0 + c);
        const int level = levels[w];
        if (level < 0 || static_cast<std::size_t>(level) >= by_level.size()) continue;
        const std::size_t cell = t.cell_index(r, c);
        const double g = t.array(Side::pos).conductance(cell, t_s);
        const double g0 = diff ? t.array(Side::neg).conductance(cell, t_s)
                               : t.array(Side::ref).conductance(static_cast<std::size_t>(r), t_s);
        by_level[static_cast<std::size_t>(level)](g - g0);
      }
    }
  }
}

ValueHistogram layer_adc_input(const Placement& pl, const TileOf& tile_of, Direction dir) {
  ValueHistogram sum;
  bool first = true;
  for (const auto& b : pl.blocks) {
    const auto& h = tile_of(b.tile).adc_input_histogram(dir);
    if (first) {
      sum = h;
      first = false;
    } else {
      sum += h;
    }
  }
  return sum;
}

std::string histograms_json(const std::vector<LayerTiles>& layers, const TileParams& params,
                            double t_s) {
  nlohmann::json out = nlohmann::json::object();
  if (layers.empty()) return out.dump(1) + "\n";
  auto by_level = make_conductance_histograms(params);
  for (const auto& l : layers)
    add_conductance_by_level(*l.placement, l.tile_of, l.levels, t_s, by_level);
  const bool diff = layers.front().tile_of(0).mapping() == Mapping::differential;
  const TileCore& t0 = layers.front().tile_of(0);
  nlohmann::json g;
  g["quantity"] = diff ? "G+ - G- of each weight" : "G - G_ref of each weight";
  g["unit"] = "uS";
  g["time_s"] = t_s;
  std::string targets;
  for (std::size_t k = 0; k < by_level.size(); ++k) {
    const double w = t0.level_value(static_cast<int>(k));
    g["histograms"].push_back(
        histogram_json(by_level[k], fmt::format("level {} (w = {:.3g})", k, w)));
    targets += fmt::format("{}{:.4g}", k == 0 ? "" : ", ", w * t0.weight_unit_uS());
  }
  g["caption"] = fmt::format(
      "Noiseless conductance each weight's devices represent at the end of the run (t = {:.4g} "
      "s, after relaxation), one histogram per level the weight is programmed to; level "
      "targets {} uS.",
      t_s, targets);
  out["conductance"] = g;

  nlohmann::json a;
  a["quantity"] = "ADC input, forward MVMs, first vector of each batch";
  a["unit"] = "ADC code steps";
  std::uint64_t total = 0;
  std::uint64_t beyond = 0;
  const double code_max = std::ldexp(1.0, static_cast<int>(params.adc_bits) - 1) - 0.5;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto h = layer_adc_input(*layers[l].placement, layers[l].tile_of, Direction::forward);
    for (auto&& b : boost::histogram::indexed(h, boost::histogram::coverage::all)) {
      total += *b;
      if (b.bin().lower() < -code_max - 0.5 || b.bin().upper() > code_max + 1.0) beyond += *b;
    }
    a["histograms"].push_back(histogram_json(h, fmt::format("layer {}", l)));
  }
  if (total > 0) {
    a["caption"] = fmt::format(
        "The signal at the column ADCs over the code step, before rounding and clipping, "
        "sampled from the first vector of every forward MVM batch ({} values); the code range "
        "is [{:.0f}, {:.0f}]: {:.3g} % of the samples lie beyond it and clip.",
        total, -code_max - 0.5, code_max - 0.5,
        100.0 * static_cast<double>(beyond) / static_cast<double>(total));
    out["adc_input"] = a;
  }
  return out.dump(1) + "\n";
}

std::string adc_profile_json(const std::vector<LayerTiles>& layers, const TileParams& params) {
  nlohmann::json out;
  out["mode"] = params.adc_range;
  out["percentile"] = params.adc_range_percentile;
  out["quantity"] =
      "|ADC code| of the profiling read (the first MVM chunk of each layer and direction, ADC "
      "at its widest range), element k = conversions of magnitude k; range_steps = the chosen "
      "full scale in profiling steps (0 = configured default)";
  for (std::size_t l = 0; l < layers.size(); ++l) {
    nlohmann::json layer;
    layer["layer"] = l;
    for (const Direction dir : {Direction::forward, Direction::transpose}) {
      nlohmann::json tiles = nlohmann::json::array();
      for (int t = 0; t < static_cast<int>(layers[l].placement->blocks.size()); ++t) {
        const TileCore& c = layers[l].tile_of(t);
        tiles.push_back({{"tile", c.name()},
                         {"profile_step", c.adc_profile_step(dir)},
                         {"range_steps", c.adc_range_steps(dir)},
                         {"full_scale", c.adc_full_scale(dir)},
                         {"counts", c.adc_profile(dir)}});
      }
      layer[dir == Direction::forward ? "forward" : "transpose"] = tiles;
    }
    out["layers"].push_back(layer);
  }
  return out.dump(1) + "\n";
}

}  // namespace memplast::tile
