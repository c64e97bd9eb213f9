// A block's hook into the run's tracer (tracer.hpp). A block holds one Probe; the system
// top attaches the run's Tracer to it when tracing is on (trace.enable). Detached (the
// default), every hook in the block is one pointer test and nothing else: no strings are
// built, no time is converted. Attached, the block's events go to its own track (one per
// block instance) and its energy to the power counter, both filtered by the selection.
//
// Event and phase names are the schema of traces/README.md.
#pragma once

#include <string>

#include "trace/tracer.hpp"

namespace memplast::trace {

class Probe {
 public:
  // Attach to `t` (null: detach). The block's track is `name` in `group`.
  void attach(Tracer* t, const std::string& group, const std::string& name, int sort_index = 0) {
    tracer_ = t;
    if (t != nullptr) track_ = t->track(group, name, sort_index);
  }
  // Tracing on for this run (the block's own track may still be unselected: energy and
  // counters are recorded regardless of trace.blocks).
  [[nodiscard]] bool on() const { return tracer_ != nullptr; }
  [[nodiscard]] Tracer& tracer() const { return *tracer_; }
  [[nodiscard]] const Tracer::Track& track() const { return track_; }
  // Will an event on this block's track be kept (block and context selected)?
  [[nodiscard]] bool events() const { return tracer_ != nullptr && tracer_->on(track_); }

 private:
  Tracer* tracer_{nullptr};
  Tracer::Track track_;
};

}  // namespace memplast::trace
