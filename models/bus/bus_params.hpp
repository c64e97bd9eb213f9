// Parameters of the system bus (keys bus.*): a plain aggregate whose member
// initializers are the keys' defaults (the paper configuration).
#pragma once

#include <cstdint>

#include "common/schema.hpp"

namespace memplast::bus {

struct BusParams {
  std::int64_t width_bytes{4};          // data bytes per beat
  double f_clk_MHz{200.0};              // bus clock
  std::int64_t cycles_per_transfer{2};  // arbitration + address phase, per transaction
  std::int64_t max_burst_bytes{4096};   // longest transaction the bus accepts
  double e_beat_pJ{1.0};                // energy per data beat (and per address phase)
};

void bind_params(cfg::Schema& s, BusParams& p);

// Throws a ConfigError naming `key` unless `bytes` is a multiple of 4 (whole 32-bit words).
void require_whole_words(const char* key, std::int64_t bytes);

}  // namespace memplast::bus
