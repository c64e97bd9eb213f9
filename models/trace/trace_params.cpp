#include "trace/trace_params.hpp"

#include <fmt/format.h>

#include "trace/selection.hpp"

namespace memplast::trace {

void bind_params(cfg::Schema& s, TraceParams& p) {
  s.add("trace.enable", &p.enable,
        "Write trace.json (Chrome/Perfetto trace events, docs/traces.md) into the run folder; "
        "hardware mode only");
  s.add("trace.vcd", &p.vcd,
        "Write waves.vcd (busy flags, interrupt lines, pv_ctrl queue depth; SystemC's sc_trace) "
        "into the run folder; hardware mode only, the whole run (the trace.* selection does not "
        "apply to it)");
  s.add("trace.window_start_us", &p.window_start_us, 0.0, 1e15, "us",
        "Start of the simulated-time window traced; events ending before it are left out");
  s.add("trace.window_end_us", &p.window_end_us, 0.0, 1e15, "us",
        "End of the simulated-time window traced (0: no end); events starting at or after it are "
        "left out");
  const std::int64_t big = std::int64_t{1} << 40;
  s.add("trace.task_first", &p.task_first, -1, big, "",
        "First task traced (0-based; -1: from the first)");
  s.add("trace.task_last", &p.task_last, -1, big, "",
        "Last task traced (inclusive; -1: to the last)");
  s.add("trace.epoch_first", &p.epoch_first, -1, big, "",
        "First epoch traced within each traced task (0-based; -1: from the first)");
  s.add("trace.epoch_last", &p.epoch_last, -1, big, "",
        "Last epoch traced within each traced task (inclusive; -1: to the last)");
  s.add("trace.batch_first", &p.batch_first, -1, big, "",
        "First batch traced within each traced epoch (0-based; the evaluation after an epoch "
        "counts as the batch after its last; -1: from the first)");
  s.add("trace.batch_last", &p.batch_last, -1, big, "",
        "Last batch traced within each traced epoch (inclusive; -1: to the last, evaluation "
        "included)");
  s.add("trace.blocks", &p.blocks, {},
        "Blocks traced: empty for every block, else a comma-separated list of track names "
        "(host, bus, pv_ctrl, meta_unit, layer0_t3, ...); a trailing * matches a prefix "
        "(layer0_t*)");
  s.add("trace.bus_aggregate", &p.bus_aggregate, 1, 1 << 20, "bursts",
        "Consecutive bus bursts of the same initiator, target and direction merged into one "
        "bus event (1: one event per burst)");
  s.add("trace.counter_interval_us", &p.counter_interval_us, 1e-3, 1e9, "us",
        "Bin width of the power and bus-utilisation counter tracks");
  s.add("trace.max_buffered_events", &p.max_buffered_events, 1024, std::int64_t{1} << 32, "events",
        "Bound of the writer's reorder buffer (events are written in time order once simulated "
        "time passes them; the buffer bounds memory)");
  s.add_check([&p] {
    if (p.window_end_us > 0.0 && p.window_end_us <= p.window_start_us) {
      throw cfg::ConfigError(fmt::format(
          "keys 'trace.window_start_us' = {} and 'trace.window_end_us' = {}: the window is empty",
          p.window_start_us, p.window_end_us));
    }
    const auto range = [](const char* what, std::int64_t a, std::int64_t b) {
      if (a >= 0 && b >= 0 && b < a) {
        throw cfg::ConfigError(
            fmt::format("keys 'trace.{0}_first' = {1} and 'trace.{0}_last' = {2}: "
                        "the range is empty",
                        what, a, b));
      }
    };
    range("task", p.task_first, p.task_last);
    range("epoch", p.epoch_first, p.epoch_last);
    range("batch", p.batch_first, p.batch_last);
    try {
      (void)parse_block_patterns(p.blocks);
    } catch (const std::invalid_argument& e) {
      throw cfg::ConfigError(fmt::format("key 'trace.blocks': {}", e.what()));
    }
  });
}

}  // namespace memplast::trace
