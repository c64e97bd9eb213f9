// The ADC input range chosen from a profiling histogram (tile.adc_range; docs/tile.md
// "ADC input-range profiling"). Both implementations of fw::Accelerator use it: the
// firmware on the histograms of the tiles' PROFILE windows, the functional model on the
// same histograms read from the tile cores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace memplast::fw {

enum class AdcRangeMode : std::uint8_t { fixed, profile_tile, profile_layer };

// tile.adc_range's value (validated by the configuration: anything else is fixed).
inline AdcRangeMode parse_adc_range(const std::string& s) {
  if (s == "profile_tile") return AdcRangeMode::profile_tile;
  if (s == "profile_layer") return AdcRangeMode::profile_layer;
  return AdcRangeMode::fixed;
}

// counts[k] (k = 0 .. n-1): conversions whose code had magnitude k at the widest range
// (n = 2^(adc_bits-1) + 1). Returns the range in profiling steps: the smallest k with at
// least `percentile` % of the counts at magnitudes <= k, plus one step (the bin's upper
// half), within 1 .. n-1; 0 (the configured default) when nothing was counted.
inline std::uint32_t adc_range_steps(const std::uint64_t* counts, std::size_t n,
                                     double percentile) {
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < n; ++k) total += counts[k];
  if (total == 0 || n < 2) return 0;
  const double need = percentile / 100.0 * static_cast<double>(total);
  std::uint64_t cum = 0;
  std::size_t k = 0;
  for (; k < n; ++k) {
    cum += counts[k];
    if (static_cast<double>(cum) >= need) break;
  }
  const std::size_t steps = k + 1 < n - 1 ? k + 1 : n - 1;
  return static_cast<std::uint32_t>(steps);
}

}  // namespace memplast::fw
