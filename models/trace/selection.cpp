#include "trace/selection.hpp"

#include <cmath>
#include <stdexcept>

namespace memplast::trace {

Ps us_to_ps(double us) { return static_cast<Ps>(std::llround(us * 1e6)); }

std::vector<BlockPattern> parse_block_patterns(const std::string& list) {
  std::vector<BlockPattern> out;
  if (list.empty()) return out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = list.find(',', pos);
    const std::size_t end = comma == std::string::npos ? list.size() : comma;
    std::string item = list.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) throw std::invalid_argument("empty block name in \"" + list + "\"");
    BlockPattern b;
    if (item.back() == '*') {
      b.prefix = true;
      item.pop_back();
    }
    if (item.find('*') != std::string::npos) {
      throw std::invalid_argument("'*' only at the end of a block name: \"" + list + "\"");
    }
    b.text = item;
    out.push_back(std::move(b));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

Selection::Selection(const TraceParams& p)
    : p_(p),
      blocks_(parse_block_patterns(p.blocks)),
      t0_(us_to_ps(p.window_start_us)),
      t1_(p.window_end_us > 0.0 ? us_to_ps(p.window_end_us) : 0) {}

bool Selection::block(std::string_view name) const {
  if (blocks_.empty()) return true;
  for (const auto& b : blocks_) {
    if (b.prefix ? name.substr(0, b.text.size()) == b.text : name == b.text) return true;
  }
  return false;
}

bool Selection::in_range(std::int64_t v, std::int64_t first, std::int64_t last) {
  if (v < 0) return true;
  return (first < 0 || v >= first) && (last < 0 || v <= last);
}

bool Selection::context(const Context& c) const {
  if (c.setup) {
    return p_.task_first < 0 && p_.task_last < 0 && p_.epoch_first < 0 && p_.epoch_last < 0 &&
           p_.batch_first < 0 && p_.batch_last < 0;
  }
  return in_range(c.task, p_.task_first, p_.task_last) &&
         in_range(c.epoch, p_.epoch_first, p_.epoch_last) &&
         in_range(c.batch, p_.batch_first, p_.batch_last);
}

bool Selection::window(Ps start, Ps dur) const {
  const Ps end = start + dur;
  if (end < t0_ || (dur > 0 && end == t0_)) return false;
  if (t1_ != 0 && start >= t1_) return false;
  return true;
}

}  // namespace memplast::trace
