// Logging facade: per-module levels, fmt formatting paid only when the level is on,
// lines carrying simulated time and the module name:
//   [D 1.000000200 us] top.tile3: wrote 128 rows
// The simulated-time source is a hook, installed by the SystemC layer, so plain C++
// cores log without a kernel.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace memplast::log {

enum class Level : int { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

Level parse_level(std::string_view s);  // throws std::invalid_argument naming the value
const char* level_name(Level l);

// "name=level,prefix*=level" -> its rules, in order; throws std::invalid_argument naming
// the bad item. No side effect (configuration validation uses it).
std::vector<std::pair<std::string, Level>> parse_module_levels(const std::string& module_levels);
// Default level for every module, then "name=level,prefix*=level" exceptions.
void configure(Level default_level, const std::string& module_levels);
Level level_for(std::string_view module);
void set_time_source(std::string (*now)());  // nullptr: no time column
void set_stream_stderr(bool to_stderr);

void emit(Level lvl, std::string_view module, std::string_view message);

class Logger {
 public:
  explicit Logger(std::string module) : module_(std::move(module)) { refresh(); }
  void refresh() { level_ = level_for(module_); }
  [[nodiscard]] bool enabled(Level l) const {
    return static_cast<int>(l) >= static_cast<int>(level_);
  }
  [[nodiscard]] const std::string& module() const { return module_; }

  template <typename... Args>
  void log(Level l, fmt::format_string<Args...> f, Args&&... args) const {
    if (enabled(l)) emit(l, module_, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void trace(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::trace, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::debug, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::info, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::warn, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... a) const {
    log(Level::error, f, std::forward<Args>(a)...);
  }

 private:
  std::string module_;
  Level level_{Level::info};
};

}  // namespace memplast::log

// Argument expressions are not evaluated when the level is off.
#define MP_LOG(logger, lvl, ...)                              \
  do {                                                        \
    if ((logger).enabled(::memplast::log::Level::lvl)) {      \
      (logger).log(::memplast::log::Level::lvl, __VA_ARGS__); \
    }                                                         \
  } while (0)
