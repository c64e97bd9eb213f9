// Streaming writer of the Chrome / Perfetto trace-event JSON format (the "JSON Object
// Format": {"traceEvents": [...], "displayTimeUnit": ..., "otherData": {...}}), which
// ui.perfetto.dev and chrome://tracing open. Plain C++, no SystemC.
//
//  * Tracks: add_track(process, thread) gives each (process, thread) pair a pid / tid
//    and writes its "process_name" / "thread_name" metadata ("ph":"M") events at once.
//  * Events: complete ("X", with dur), begin / end ("B" / "E"), counter ("C"), instant
//    ("i"). Times are integer picoseconds of simulated time, written as microseconds
//    ("ts", "dur") with six decimals, so no rounding happens.
//  * Order and memory: events may be handed in out of time order (a loosely-timed
//    model reserves resources ahead of the kernel's time). They wait in a reorder
//    buffer until advance(watermark) says no event before the watermark can come any
//    more, and are then written in (ts, arrival) order. The buffer holds at most
//    max_buffered events: beyond that the earliest is written at once; an event that
//    arrives earlier than one already written is written anyway and counted in
//    late_events() (and in otherData), it is never dropped or moved.
//  * The file is written to "<path>.tmp.<pid>" and renamed into place by finish().
//    If the writer is destroyed unfinished (an exception unwinds the run) the array
//    is still closed, with otherData.status "aborted", so the file stays valid JSON.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/output.hpp"

namespace memplast::trace {

using Ps = std::uint64_t;

// "12.000345": picoseconds as microseconds with the trailing zeros removed.
std::string ps_to_us_text(Ps t);
// s as the body of a JSON string (quotes not included).
std::string json_escape(std::string_view s);

// The "args" object of an event, rendered as it is built.
class Args {
 public:
  Args& add(std::string_view key, std::int64_t v);
  Args& add(std::string_view key, std::uint64_t v);
  Args& add(std::string_view key, int v) { return add(key, static_cast<std::int64_t>(v)); }
  Args& add(std::string_view key, unsigned v) { return add(key, static_cast<std::uint64_t>(v)); }
  Args& add(std::string_view key, double v);
  Args& add(std::string_view key, bool v);
  Args& add(std::string_view key, std::string_view v);
  Args& add(std::string_view key, const char* v) { return add(key, std::string_view(v)); }
  [[nodiscard]] bool empty() const { return body_.empty(); }
  [[nodiscard]] std::string json() const { return "{" + body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

struct TrackId {
  int pid{0};
  int tid{0};
};

class TraceWriter {
 public:
  explicit TraceWriter(std::filesystem::path path, std::size_t max_buffered = 1U << 20);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // The track of `thread` in `process` (created with its metadata on first use).
  // sort_index orders processes in the UI (lower first).
  TrackId add_track(const std::string& process, const std::string& thread, int sort_index = 0);

  void complete(TrackId t, std::string_view name, std::string_view cat, Ps ts, Ps dur,
                const Args& args = {});
  void begin(TrackId t, std::string_view name, std::string_view cat, Ps ts, const Args& args = {});
  void end(TrackId t, Ps ts, const Args& args = {});
  // A counter sample: each arg is one series of the counter `name` of t's process.
  void counter(TrackId t, std::string_view name, Ps ts, const Args& values);
  void instant(TrackId t, std::string_view name, std::string_view cat, Ps ts,
               const Args& args = {});

  // No event with ts < watermark will be handed in any more: write those buffered.
  void advance(Ps watermark);
  // Write everything, close the JSON, rename into place. status goes to otherData.
  void finish(const std::string& status = "complete");
  [[nodiscard]] bool finished() const { return finished_; }

  [[nodiscard]] std::uint64_t events_written() const { return written_; }
  [[nodiscard]] std::uint64_t late_events() const { return late_; }
  [[nodiscard]] std::size_t buffered() const { return heap_.size(); }
  [[nodiscard]] std::size_t max_buffered_seen() const { return max_seen_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // Extra otherData members (JSON text of the value), written by finish().
  void set_other(const std::string& key, const std::string& json_value) {
    other_[key] = json_value;
  }

 private:
  struct Pending {
    Ps ts;
    std::uint64_t seq;
    std::string text;  // the event's JSON object
    bool operator>(const Pending& o) const { return ts != o.ts ? ts > o.ts : seq > o.seq; }
  };
  void push(Ps ts, std::string text);
  void write_now(const std::string& text);
  std::string head(TrackId t, char ph, std::string_view name, std::string_view cat, Ps ts) const;

  std::filesystem::path path_;
  std::unique_ptr<AtomicFile> file_;
  std::size_t max_buffered_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> heap_;
  std::uint64_t seq_{0};
  Ps written_upto_{0};  // ts of the last event written in order
  bool any_written_{false};
  std::uint64_t written_{0};
  std::uint64_t late_{0};
  std::size_t max_seen_{0};
  bool finished_{false};
  std::map<std::string, int> pids_;
  std::map<std::pair<int, std::string>, int> tids_;
  std::map<int, int> next_tid_;
  std::map<std::string, std::string> other_;
};

}  // namespace memplast::trace
