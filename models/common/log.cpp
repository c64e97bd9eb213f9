#include "common/log.hpp"

#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace memplast::log {
namespace {
struct State {
  Level default_level{Level::info};
  std::vector<std::pair<std::string, Level>> rules;  // exact name or prefix ending in '*'
  std::string (*now)(){nullptr};
  bool to_stderr{true};
  std::mutex mu;
};
State& state() {
  static State s;
  return s;
}
}  // namespace

Level parse_level(std::string_view s) {
  if (s == "trace") return Level::trace;
  if (s == "debug") return Level::debug;
  if (s == "info") return Level::info;
  if (s == "warn" || s == "warning") return Level::warn;
  if (s == "error") return Level::error;
  if (s == "off") return Level::off;
  throw std::invalid_argument("unknown log level '" + std::string(s) +
                              "' (expected trace, debug, info, warn, error, off)");
}

const char* level_name(Level l) {
  switch (l) {
    case Level::trace: return "T";
    case Level::debug: return "D";
    case Level::info: return "I";
    case Level::warn: return "W";
    case Level::error: return "E";
    case Level::off: return "-";
  }
  return "?";
}

std::vector<std::pair<std::string, Level>> parse_module_levels(const std::string& module_levels) {
  std::vector<std::pair<std::string, Level>> rules;
  std::size_t pos = 0;
  while (pos < module_levels.size()) {
    auto comma = module_levels.find(',', pos);
    if (comma == std::string::npos) comma = module_levels.size();
    const std::string item = module_levels.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      throw std::invalid_argument("log.module_levels item '" + item + "' is not name=level");
    }
    rules.emplace_back(item.substr(0, eq), parse_level(item.substr(eq + 1)));
  }
  return rules;
}

void configure(Level default_level, const std::string& module_levels) {
  auto rules = parse_module_levels(module_levels);
  auto& s = state();
  s.default_level = default_level;
  s.rules = std::move(rules);
}

Level level_for(std::string_view module) {
  const auto& s = state();
  Level l = s.default_level;
  std::size_t best = 0;
  for (const auto& [pat, lvl] : s.rules) {
    const bool prefix = !pat.empty() && pat.back() == '*';
    const std::string_view p = prefix ? std::string_view(pat).substr(0, pat.size() - 1) : pat;
    const bool match = prefix ? module.substr(0, p.size()) == p : module == p;
    if (match && p.size() + 1 > best) {
      best = p.size() + 1;
      l = lvl;
    }
  }
  return l;
}

void set_time_source(std::string (*now)()) { state().now = now; }
void set_stream_stderr(bool to_stderr) { state().to_stderr = to_stderr; }

void emit(Level lvl, std::string_view module, std::string_view message) {
  auto& s = state();
  std::string line;
  if (s.now != nullptr) {
    line = fmt::format("[{} {}] {}: {}\n", level_name(lvl), s.now(), module, message);
  } else {
    line = fmt::format("[{}] {}: {}\n", level_name(lvl), module, message);
  }
  std::lock_guard<std::mutex> lock(s.mu);
  std::fputs(line.c_str(), s.to_stderr ? stderr : stdout);
}

}  // namespace memplast::log
