#include "trace/tracer.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace memplast::trace {

bool BinnedCounter::add(const std::string& series, Ps start, Ps dur, double amount) {
  const auto first = static_cast<std::int64_t>(start / width_);
  if (first <= last_bin_) return false;
  if (dur == 0) {
    bins_[first][series] += amount;
    return true;
  }
  const Ps end = start + dur;
  const auto last = static_cast<std::int64_t>((end - 1) / width_);
  for (std::int64_t b = first; b <= last; ++b) {
    const Ps b0 = static_cast<Ps>(b) * width_;
    const Ps lo = std::max(start, b0);
    const Ps hi = std::min(end, b0 + width_);
    bins_[b][series] += amount * static_cast<double>(hi - lo) / static_cast<double>(dur);
  }
  return true;
}

void BinnedCounter::emit(TraceWriter& w, TrackId t, const Selection& sel, std::int64_t bin,
                         const std::map<std::string, double>* values) {
  Args a;
  bool changed = false;
  std::map<std::string, double> next;
  for (const auto& [s, v] : last_) next[s] = 0.0;
  if (values != nullptr) {
    for (const auto& [s, v] : *values) next[s] = v * scale_ / static_cast<double>(width_);
  }
  for (const auto& [s, v] : next) {
    auto it = last_.find(s);
    if (it == last_.end() || it->second != v) changed = true;
    a.add(s, v);
  }
  last_ = std::move(next);
  last_bin_ = bin;
  const Ps ts = static_cast<Ps>(bin) * width_;
  if (changed && !a.empty() && sel.window(ts, width_)) w.counter(t, name_, ts, a);
}

void BinnedCounter::flush(TraceWriter& w, TrackId t, const Selection& sel, Ps watermark) {
  for (;;) {
    bool nonzero = false;
    for (const auto& [s, v] : last_) nonzero = nonzero || v != 0.0;
    const std::int64_t zero_bin = last_bin_ + 1;
    const bool data = !bins_.empty();
    if (nonzero && (!data || bins_.begin()->first > zero_bin) &&
        static_cast<Ps>(zero_bin + 1) * width_ <= watermark) {
      emit(w, t, sel, zero_bin, nullptr);
      continue;
    }
    if (data && static_cast<Ps>(bins_.begin()->first + 1) * width_ <= watermark) {
      const auto it = bins_.begin();
      emit(w, t, sel, it->first, &it->second);
      bins_.erase(it);
      continue;
    }
    break;
  }
}

void BinnedCounter::flush_all(TraceWriter& w, TrackId t, const Selection& sel) {
  while (!bins_.empty()) {
    const auto it = bins_.begin();
    emit(w, t, sel, it->first, &it->second);
    bins_.erase(it);
  }
  bool nonzero = false;
  for (const auto& [s, v] : last_) nonzero = nonzero || v != 0.0;
  if (nonzero) emit(w, t, sel, last_bin_ + 1, nullptr);
}

Tracer::Tracer(const TraceParams& p, const std::filesystem::path& file)
    : p_(p),
      sel_(p),
      w_(std::make_unique<TraceWriter>(file, static_cast<std::size_t>(p.max_buffered_events))),
      power_("power_W", std::max<Ps>(1, us_to_ps(p.counter_interval_us)), 1e12),
      util_("bus_utilisation", std::max<Ps>(1, us_to_ps(p.counter_interval_us)), 1.0) {
  ctx_on_ = sel_.context(ctx_);
}

Tracer::~Tracer() {
  if (w_->finished()) return;
  try {
    finish("aborted");
  } catch (...) {  // the writer's own destructor still closes the file
  }
}

Tracer::Track Tracer::track(const std::string& group, const std::string& name, int sort_index) {
  Track t;
  t.selected = sel_.block(name);
  if (t.selected) t.id = w_->add_track(group, name, sort_index);
  return t;
}

TrackId Tracer::counters() {
  if (!counters_) counters_ = w_->add_track("counters", "counters", 100);
  return *counters_;
}

void Tracer::set_context(const Context& c) {
  ctx_ = c;
  ctx_on_ = sel_.context(c);
}

void Tracer::complete(const Track& t, std::string_view name, std::string_view cat, Ps ts, Ps dur,
                      const Args& args) {
  if (!on(t) || !sel_.window(ts, dur)) return;
  w_->complete(t.id, name, cat, ts, dur, args);
}

void Tracer::instant(const Track& t, std::string_view name, std::string_view cat, Ps ts,
                     const Args& args) {
  if (!on(t) || !sel_.window(ts, 0)) return;
  w_->instant(t.id, name, cat, ts, args);
}

void Tracer::begin(const Track& t, std::string_view name, std::string_view cat, Ps ts,
                   const Args& args) {
  if (!t.selected) return;
  const bool keep = ctx_on_ && (sel_.window_end() == 0 || ts < sel_.window_end());
  auto key = std::make_pair(t.id.pid, t.id.tid);
  open_[key].push_back(keep);
  if (keep) {
    w_->begin(t.id, name, cat, ts, args);
    auto& last = last_end_ts_[key];
    last = std::max(last, ts);
  }
}

void Tracer::end(const Track& t, Ps ts, const Args& args) {
  if (!t.selected) return;
  auto key = std::make_pair(t.id.pid, t.id.tid);
  auto& stack = open_[key];
  if (stack.empty())
    throw std::logic_error(
        fmt::format("trace: end() without begin() on track {}/{}", t.id.pid, t.id.tid));
  const bool written = stack.back();
  stack.pop_back();
  if (written) {
    auto& last = last_end_ts_[key];
    last = std::max(last, ts);
    w_->end(t.id, ts, args);
  }
}

void Tracer::energy(const std::string& component, Ps start, Ps dur, double joules) {
  if (!ctx_on_ || joules == 0.0) return;
  if (!power_.add(component, start, dur, joules)) ++late_amounts_;
}

void Tracer::bus_burst(const Track& bus, const std::string& initiator, const std::string& target,
                       bool write, std::uint64_t bytes, Ps start, Ps dur, Ps wait) {
  if (!ctx_on_) return;
  if (!util_.add("bus", start, dur, static_cast<double>(dur))) ++late_amounts_;
  if (!on(bus) || !sel_.window(start, dur)) return;
  if (bus_ && (bus_->initiator != initiator || bus_->target != target || bus_->write != write ||
               bus_->bursts >= static_cast<std::uint64_t>(p_.bus_aggregate))) {
    flush_bus();
  }
  if (!bus_) {
    bus_ = BusAgg{bus.id, initiator, target, write, 0, 0, start, start + dur, 0};
  }
  bus_->bytes += bytes;
  bus_->bursts += 1;
  bus_->wait += wait;
  bus_->start = std::min(bus_->start, start);
  bus_->end = std::max(bus_->end, start + dur);
}

void Tracer::flush_bus() {
  if (!bus_) return;
  Args a;
  a.add("initiator", bus_->initiator)
      .add("target", bus_->target)
      .add("bytes", bus_->bytes)
      .add("bursts", bus_->bursts);
  a.add("wait_us", static_cast<double>(bus_->wait) * 1e-6);
  w_->complete(bus_->track, bus_->write ? "write" : "read", "bus", bus_->start,
               bus_->end - bus_->start, a);
  bus_.reset();
}

void Tracer::sample(std::string_view counter, Ps ts, double value) {
  if (!ctx_on_ || !sel_.window(ts, 0)) return;
  auto it = sampled_.find(counter);
  if (it != sampled_.end() && it->second == value) return;
  if (it == sampled_.end()) it = sampled_.emplace(std::string(counter), value).first;
  it->second = value;
  Args a;
  a.add("value", value);
  w_->counter(counters(), counter, ts, a);
}

void Tracer::advance(Ps now) {
  now_ = std::max(now_, now);
  const Ps lag = power_.width();
  if (bus_ && bus_->start + lag <= now_) flush_bus();
  if (now_ >= power_.width()) {
    power_.flush(*w_, counters(), sel_, now_);
    util_.flush(*w_, counters(), sel_, now_);
  }
  if (now_ > lag) w_->advance(now_ - lag);
}

void Tracer::finish(const std::string& status) {
  if (w_->finished()) return;
  flush_bus();
  power_.flush_all(*w_, counters(), sel_);
  util_.flush_all(*w_, counters(), sel_);
  for (auto& [key, stack] : open_) {
    const Ps at = std::max(now_, last_end_ts_[key]);
    while (!stack.empty()) {
      if (stack.back()) w_->end(TrackId{key.first, key.second}, at);
      stack.pop_back();
    }
  }
  w_->set_other("late_counter_amounts", std::to_string(late_amounts_));
  w_->finish(status);
}

}  // namespace memplast::trace
