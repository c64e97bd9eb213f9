// ADC input-range profiling of TileCore (tile.adc_range; docs/tile.md "ADC input-range
// profiling"). Kept apart from the MVM kernel in tile_core.cpp: a profiling read is an
// ordinary mvm_batch with a widened ADC range.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "tile/tile_core.hpp"

namespace memplast::tile {

double TileCore::adc_max_signal(Direction dir) const {
  return dir == Direction::forward ? static_cast<double>(rows_) : static_cast<double>(cols_);
}

double TileCore::adc_profile_step(Direction dir) const {
  return adc_max_signal(dir) / std::ldexp(1.0, static_cast<int>(p_.adc_bits) - 1);
}

void TileCore::set_adc_range_steps(Direction dir, int steps) {
  const int half = 1 << (static_cast<int>(p_.adc_bits) - 1);
  if (steps < 0 || steps > half) {
    throw std::out_of_range(
        fmt::format("{}: ADC range of {} profiling steps outside 0..{}", name_, steps, half));
  }
  const std::size_t d = dir_index(dir);
  adc_range_steps_[d] = steps;
  adc_fs_[d] =
      steps == 0 ? p_.adc_range_fraction * adc_max_signal(dir) : steps * adc_profile_step(dir);
}

OpCost TileCore::profile_batch(Direction dir, const float* X, int batch, double t_s, Encoding enc,
                               bool signed_inputs) {
  const std::size_t d = dir_index(dir);
  const double fs = adc_fs_[d];
  adc_fs_[d] = adc_max_signal(dir);
  const int n_out = dir == Direction::forward ? cols_ : rows_;
  profile_y_.resize(static_cast<std::size_t>(n_out) * static_cast<std::size_t>(batch));
  OpCost c;
  try {
    c = mvm_batch(dir, X, batch, profile_y_.data(), t_s, enc, signed_inputs);
  } catch (...) {
    adc_fs_[d] = fs;
    throw;
  }
  adc_fs_[d] = fs;
  const auto half = static_cast<std::size_t>(1) << (static_cast<int>(p_.adc_bits) - 1);
  auto& h = adc_profile_[d];
  h.assign(half + 1, 0U);
  for (const std::int32_t code : codes_) {
    ++h[std::min(static_cast<std::size_t>(std::abs(code)), half)];
  }
  return c;
}

}  // namespace memplast::tile
