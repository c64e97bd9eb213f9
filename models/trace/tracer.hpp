// The run's tracer: the trace writer (trace_writer.hpp) behind the selection
// (selection.hpp), plus the derived tracks: binned counters (power per component, bus
// utilisation), sampled counters (queue depth), bus-burst aggregation and the nested
// firmware phases. Plain C++, no SystemC: callers pass simulated time in picoseconds and
// call advance(now) with the kernel's time, below which no new event may start.
//
// Every event is kept only if its block is selected (trace.blocks), the training
// context is in range (trace.task_* / epoch_* / batch_*) and it overlaps the time
// window (trace.window_*). Counter bins accumulate only while the context is in range
// and are written only where they overlap the window. A begin/end pair is written
// whole or not at all: end() writes an "E" only if its "B" was written, and finish()
// closes every phase still open, so B and E always match.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trace/selection.hpp"
#include "trace/trace_params.hpp"
#include "trace/trace_writer.hpp"

namespace memplast::trace {

// A counter whose value per bin is (sum of amounts falling in the bin) * scale / width,
// amounts spread over [start, start + dur) in proportion to the overlap.
class BinnedCounter {
 public:
  BinnedCounter(std::string name, Ps width, double scale)
      : name_(std::move(name)), width_(width), scale_(scale) {}
  // Returns false (and adds nothing) if the amount falls in a bin already written.
  bool add(const std::string& series, Ps start, Ps dur, double amount);
  // Write every bin that ends at or before `watermark`, and the drop to zero after the
  // last busy bin, as counter samples at each bin's start.
  void flush(TraceWriter& w, TrackId t, const Selection& sel, Ps watermark);
  void flush_all(TraceWriter& w, TrackId t, const Selection& sel);
  [[nodiscard]] Ps width() const { return width_; }

 private:
  void emit(TraceWriter& w, TrackId t, const Selection& sel, std::int64_t bin,
            const std::map<std::string, double>* values);
  std::string name_;
  Ps width_;
  double scale_;
  std::map<std::int64_t, std::map<std::string, double>> bins_;
  std::map<std::string, double> last_;  // last value written per series
  std::int64_t last_bin_{-1};
};

class Tracer {
 public:
  struct Track {
    TrackId id;
    bool selected{false};
  };

  // Opens `file` (written atomically by finish(); an unfinished tracer closes it with
  // status "aborted").
  Tracer(const TraceParams& p, const std::filesystem::path& file);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // The track of block `name` in `group` (a process in the UI). Unselected blocks get a
  // track that records nothing (no metadata either).
  Track track(const std::string& group, const std::string& name, int sort_index = 0);

  void set_context(const Context& c);
  [[nodiscard]] const Context& context() const { return ctx_; }
  [[nodiscard]] bool context_on() const { return ctx_on_; }
  // Will an event on t be kept (block and context; the window is checked per event)?
  [[nodiscard]] bool on(const Track& t) const { return t.selected && ctx_on_; }

  void complete(const Track& t, std::string_view name, std::string_view cat, Ps ts, Ps dur,
                const Args& args = {});
  void instant(const Track& t, std::string_view name, std::string_view cat, Ps ts,
               const Args& args = {});
  // Nested phases (B/E), matched per track.
  void begin(const Track& t, std::string_view name, std::string_view cat, Ps ts,
             const Args& args = {});
  void end(const Track& t, Ps ts, const Args& args = {});

  // Energy of `component` spent over [start, start + dur): the power counter.
  void energy(const std::string& component, Ps start, Ps dur, double joules);
  // One bus burst (or the aggregate of trace.bus_aggregate bursts): a bus event, and
  // the utilisation counter.
  void bus_burst(const Track& bus, const std::string& initiator, const std::string& target,
                 bool write, std::uint64_t bytes, Ps start, Ps dur, Ps wait);
  // A sampled counter (e.g. queue depth): written when the value changes.
  void sample(std::string_view counter, Ps ts, double value);

  // Kernel time: no event starts before it any more.
  void advance(Ps now);
  void finish(const std::string& status = "complete");

  [[nodiscard]] const Selection& selection() const { return sel_; }
  [[nodiscard]] TraceWriter& writer() { return *w_; }
  [[nodiscard]] std::uint64_t late_counter_amounts() const { return late_amounts_; }

 private:
  struct BusAgg {
    TrackId track;
    std::string initiator, target;
    bool write{false};
    std::uint64_t bytes{0};
    std::uint64_t bursts{0};
    Ps start{0}, end{0}, wait{0};
  };
  void flush_bus();
  TrackId counters();

  TraceParams p_;
  Selection sel_;
  std::unique_ptr<TraceWriter> w_;
  Context ctx_;
  bool ctx_on_{true};
  std::optional<TrackId> counters_;
  BinnedCounter power_;
  BinnedCounter util_;
  std::map<std::string, double, std::less<>> sampled_;
  std::map<std::pair<int, int>, std::vector<bool>> open_;  // per track: B written?
  std::map<std::pair<int, int>, Ps> last_end_ts_;
  std::optional<BusAgg> bus_;
  Ps now_{0};
  std::uint64_t late_amounts_{0};
};

}  // namespace memplast::trace
