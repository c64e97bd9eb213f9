#include "trace/trace_writer.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::trace {

std::string ps_to_us_text(Ps t) {
  const Ps whole = t / 1000000U;
  Ps frac = t % 1000000U;
  if (frac == 0) return std::to_string(whole);
  int digits = 6;
  while (frac % 10U == 0) {
    frac /= 10U;
    --digits;
  }
  return fmt::format("{}.{:0{}}", whole, frac, digits);
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += ch;
        }
    }
  }
  return out;
}

void Args::key(std::string_view k) {
  if (!body_.empty()) body_ += ',';
  body_ += '"';
  body_ += json_escape(k);
  body_ += "\":";
}
Args& Args::add(std::string_view k, std::int64_t v) {
  key(k);
  body_ += std::to_string(v);
  return *this;
}
Args& Args::add(std::string_view k, std::uint64_t v) {
  key(k);
  body_ += std::to_string(v);
  return *this;
}
Args& Args::add(std::string_view k, double v) {
  key(k);
  // JSON has no NaN or infinity: write them as strings rather than break the file.
  if (std::isfinite(v)) {
    body_ += fmt::format("{:.9g}", v);
  } else {
    body_ += fmt::format("\"{}\"", v);
  }
  return *this;
}
Args& Args::add(std::string_view k, bool v) {
  key(k);
  body_ += v ? "true" : "false";
  return *this;
}
Args& Args::add(std::string_view k, std::string_view v) {
  key(k);
  body_ += '"';
  body_ += json_escape(v);
  body_ += '"';
  return *this;
}

TraceWriter::TraceWriter(std::filesystem::path path, std::size_t max_buffered)
    : path_(std::move(path)),
      file_(std::make_unique<AtomicFile>(path_)),
      max_buffered_(max_buffered) {
  if (max_buffered_ == 0)
    throw std::invalid_argument("trace writer: max_buffered must be at least 1");
  file_->stream() << "{\"traceEvents\":[";
  if (!file_->stream())
    throw std::runtime_error(fmt::format("{}: cannot write the trace", path_.string()));
}

TraceWriter::~TraceWriter() {
  if (finished_) return;
  try {
    finish("aborted");
  } catch (...) {  // a destructor must not throw; the temporary is removed by AtomicFile
  }
}

TrackId TraceWriter::add_track(const std::string& process, const std::string& thread,
                               int sort_index) {
  auto pit = pids_.find(process);
  if (pit == pids_.end()) {
    const int pid = static_cast<int>(pids_.size()) + 1;
    pit = pids_.emplace(process, pid).first;
    write_now(fmt::format(
        R"({{"name":"process_name","ph":"M","ts":0,"pid":{},"tid":0,"args":{{"name":"{}"}}}})", pid,
        json_escape(process)));
    write_now(fmt::format(
        R"({{"name":"process_sort_index","ph":"M","ts":0,"pid":{},"tid":0,"args":{{"sort_index":{}}}}})",
        pid, sort_index));
  }
  const int pid = pit->second;
  auto key = std::make_pair(pid, thread);
  auto tit = tids_.find(key);
  if (tit == tids_.end()) {
    const int tid = ++next_tid_[pid];
    tit = tids_.emplace(key, tid).first;
    write_now(fmt::format(
        R"({{"name":"thread_name","ph":"M","ts":0,"pid":{},"tid":{},"args":{{"name":"{}"}}}})", pid,
        tid, json_escape(thread)));
    write_now(fmt::format(
        R"({{"name":"thread_sort_index","ph":"M","ts":0,"pid":{},"tid":{},"args":{{"sort_index":{}}}}})",
        pid, tid, tid));
  }
  return TrackId{pid, tit->second};
}

std::string TraceWriter::head(TrackId t, char ph, std::string_view name, std::string_view cat,
                              Ps ts) const {
  std::string s = fmt::format(R"({{"name":"{}","ph":"{}","ts":{},"pid":{},"tid":{})",
                              json_escape(name), ph, ps_to_us_text(ts), t.pid, t.tid);
  if (!cat.empty()) s += fmt::format(R"(,"cat":"{}")", json_escape(cat));
  return s;
}

void TraceWriter::complete(TrackId t, std::string_view name, std::string_view cat, Ps ts, Ps dur,
                           const Args& args) {
  std::string s = head(t, 'X', name, cat, ts);
  s += ",\"dur\":" + ps_to_us_text(dur);
  if (!args.empty()) s += ",\"args\":" + args.json();
  s += '}';
  push(ts, std::move(s));
}

void TraceWriter::begin(TrackId t, std::string_view name, std::string_view cat, Ps ts,
                        const Args& args) {
  std::string s = head(t, 'B', name, cat, ts);
  if (!args.empty()) s += ",\"args\":" + args.json();
  s += '}';
  push(ts, std::move(s));
}

void TraceWriter::end(TrackId t, Ps ts, const Args& args) {
  std::string s =
      fmt::format(R"({{"ph":"E","ts":{},"pid":{},"tid":{})", ps_to_us_text(ts), t.pid, t.tid);
  if (!args.empty()) s += ",\"args\":" + args.json();
  s += '}';
  push(ts, std::move(s));
}

void TraceWriter::counter(TrackId t, std::string_view name, Ps ts, const Args& values) {
  std::string s = head(t, 'C', name, "", ts);
  s += ",\"args\":" + values.json() + '}';
  push(ts, std::move(s));
}

void TraceWriter::instant(TrackId t, std::string_view name, std::string_view cat, Ps ts,
                          const Args& args) {
  std::string s = head(t, 'i', name, cat, ts);
  s += R"(,"s":"t")";
  if (!args.empty()) s += ",\"args\":" + args.json();
  s += '}';
  push(ts, std::move(s));
}

void TraceWriter::write_now(const std::string& text) {
  if (finished_)
    throw std::logic_error(fmt::format("{}: trace event after finish()", path_.string()));
  auto& out = file_->stream();
  out << (written_ == 0 ? "\n" : ",\n") << text;
  ++written_;
}

void TraceWriter::push(Ps ts, std::string text) {
  if (finished_)
    throw std::logic_error(fmt::format("{}: trace event after finish()", path_.string()));
  if (any_written_ && ts < written_upto_) {
    ++late_;
    write_now(text);
    return;
  }
  heap_.push(Pending{ts, seq_++, std::move(text)});
  if (heap_.size() > max_seen_) max_seen_ = heap_.size();
  while (heap_.size() > max_buffered_) {
    const Pending& p = heap_.top();
    written_upto_ = p.ts;
    any_written_ = true;
    write_now(p.text);
    heap_.pop();
  }
}

void TraceWriter::advance(Ps watermark) {
  while (!heap_.empty() && heap_.top().ts <= watermark) {
    const Pending& p = heap_.top();
    written_upto_ = p.ts;
    any_written_ = true;
    write_now(p.text);
    heap_.pop();
  }
}

void TraceWriter::finish(const std::string& status) {
  if (finished_) return;
  while (!heap_.empty()) {
    write_now(heap_.top().text);
    heap_.pop();
  }
  finished_ = true;
  auto& out = file_->stream();
  out << "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"generator\":\"memplast\",\"time_"
         "unit\":\"simulated us\","
      << "\"status\":\"" << json_escape(status) << "\",\"events\":" << written_
      << ",\"late_events\":" << late_ << ",\"max_buffered_events\":" << max_seen_;
  for (const auto& [k, v] : other_) out << ",\"" << json_escape(k) << "\":" << v;
  out << "}}\n";
  file_->commit();
}

}  // namespace memplast::trace
