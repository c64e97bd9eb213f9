// Parameters of the trace outputs (keys trace.*): whether a run writes trace.json
// (Chrome/Perfetto trace events) and waves.vcd, and which part of the run they cover.
// Plain aggregate, no SystemC; bound to the schema by bind_params (trace_params.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "common/schema.hpp"

namespace memplast::trace {

struct TraceParams {
  bool enable{false};           // write trace.json
  bool vcd{false};              // write waves.vcd
  double window_start_us{0.0};  // simulated-time window [start, end); end 0 = no end
  double window_end_us{0.0};
  // Task / epoch / batch ranges (0-based, inclusive; -1 = unbounded on that side).
  std::int64_t task_first{-1};
  std::int64_t task_last{-1};
  std::int64_t epoch_first{-1};
  std::int64_t epoch_last{-1};
  std::int64_t batch_first{-1};
  std::int64_t batch_last{-1};
  std::string blocks;                // "" = every block; else comma list, trailing * = prefix
  std::int64_t bus_aggregate{1};     // consecutive bursts merged into one bus event
  double counter_interval_us{10.0};  // bin width of the power and utilisation counters
  std::int64_t max_buffered_events{1 << 20};  // reorder buffer bound (memory)
};

void bind_params(cfg::Schema& s, TraceParams& p);

}  // namespace memplast::trace
