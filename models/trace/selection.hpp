// Which part of a run is traced (keys trace.*, trace_params.hpp): a simulated-time
// window, task / epoch / batch ranges and a block filter. Plain C++, no SystemC.
//
// Times are integer picoseconds (Ps). The training context (task, epoch, batch) is set
// by the firmware's phase markers; a field of -1 means "not inside one" (e.g. the
// task-level phase before its first epoch) and passes that field's range. The
// evaluation after an epoch has batch = the number of batches of the epoch (the batch
// after its last).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/trace_params.hpp"

namespace memplast::trace {

using Ps = std::uint64_t;  // simulated time, picoseconds

struct Context {
  std::int64_t task{-1};
  std::int64_t epoch{-1};
  std::int64_t batch{-1};
  // The firmware's initialisation before its first task (initial weight programming):
  // selected only when no task, epoch or batch range is set (all six bounds -1).
  bool setup{false};
};

struct BlockPattern {
  std::string text;  // without the trailing '*'
  bool prefix{false};
};

// "a,b*,c" -> patterns; empty -> none (every block). Throws std::invalid_argument for an
// empty item or a '*' that is not at the end.
std::vector<BlockPattern> parse_block_patterns(const std::string& list);

class Selection {
 public:
  explicit Selection(const TraceParams& p);

  [[nodiscard]] bool block(std::string_view name) const;
  [[nodiscard]] bool context(const Context& c) const;
  // Does [start, start + dur] overlap the window? (dur 0: is start inside it?)
  [[nodiscard]] bool window(Ps start, Ps dur) const;
  [[nodiscard]] Ps window_start() const { return t0_; }
  [[nodiscard]] Ps window_end() const { return t1_; }  // 0: none

 private:
  static bool in_range(std::int64_t v, std::int64_t first, std::int64_t last);
  TraceParams p_;
  std::vector<BlockPattern> blocks_;
  Ps t0_{0};
  Ps t1_{0};
};

// Microseconds (a key's value) to picoseconds, rounded.
Ps us_to_ps(double us);

}  // namespace memplast::trace
