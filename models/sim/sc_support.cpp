#include "sim/sc_support.hpp"

#include <atomic>
#include <cmath>

#include <fmt/format.h>

#include "common/log.hpp"

namespace memplast::sim {
namespace {
std::atomic<std::uint64_t> g_failures{0};
bool g_strict = false;

void handler(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
  using memplast::log::Level;
  Level lvl = Level::info;
  switch (rep.get_severity()) {
    case sc_core::SC_INFO: lvl = Level::info; break;
    case sc_core::SC_WARNING: lvl = Level::warn; break;
    case sc_core::SC_ERROR: lvl = Level::error; break;
    case sc_core::SC_FATAL: lvl = Level::error; break;
    default: break;
  }
  if (g_strict && rep.get_severity() >= sc_core::SC_WARNING) ++g_failures;
  const std::string module = std::string("systemc.") + rep.get_msg_type();
  if (memplast::log::level_for(module) <= lvl) {
    std::string where;
    if (rep.get_file_name() != nullptr && rep.get_line_number() > 0) {
      where = fmt::format(" ({}:{})", rep.get_file_name(), rep.get_line_number());
    }
    memplast::log::emit(lvl, module, fmt::format("{}{}", rep.get_msg(), where));
  }
  // Keep SystemC's control actions (throw on error, abort on fatal, stop).
  sc_core::sc_actions control =
      actions & (sc_core::SC_THROW | sc_core::SC_ABORT | sc_core::SC_STOP | sc_core::SC_INTERRUPT);
  if (control != 0) {
    sc_core::sc_report_handler::default_handler(rep,
                                                control & ~(sc_core::SC_DISPLAY | sc_core::SC_LOG));
  }
}

std::string time_text() { return now_text(); }
}  // namespace

void install_report_handler(bool strict) {
  g_strict = strict;
  sc_core::sc_report_handler::set_handler(&handler);
  // SystemC's deprecation chatter is not a model fault.
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
  // "Simulation stopped by user" after sc_stop() is the normal end of a run.
  if (!strict) {
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                            sc_core::SC_DO_NOTHING);
  }
  memplast::log::set_time_source(&time_text);
}

std::uint64_t report_failures() { return g_failures.load(); }

std::string now_text() {
  const double ps = sc_core::sc_time_stamp().to_seconds() * 1e12;
  if (ps < 1e3) return fmt::format("{:.0f} ps", ps);
  if (ps < 1e6) return fmt::format("{:.3f} ns", ps / 1e3);
  if (ps < 1e9) return fmt::format("{:.6f} us", ps / 1e6);
  return fmt::format("{:.9f} ms", ps / 1e9);
}

std::uint64_t to_ps(const sc_core::sc_time& t) {
  static const double res_ps = sc_core::sc_get_time_resolution().to_seconds() * 1e12;
  static const auto whole = static_cast<std::uint64_t>(std::llround(res_ps));
  if (whole >= 1 && static_cast<double>(whole) == res_ps) return t.value() * whole;
  return static_cast<std::uint64_t>(std::llround(static_cast<double>(t.value()) * res_ps));
}

}  // namespace memplast::sim
