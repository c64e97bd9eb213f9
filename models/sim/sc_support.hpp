// SystemC glue shared by every module and testbench: the report handler routed
// through the logging facade, the simulated-time column of log lines, and
// conversions from configuration units to sc_time.
#pragma once

#include <cstdint>
#include <string>

#include <systemc>

namespace memplast::sim {

// Route SystemC reports through memplast::log and install the simulated-time
// column. When `strict` is set (testbenches), every SC_WARNING and above is also
// counted in report_failures() so the test main can fail the run.
void install_report_handler(bool strict);
std::uint64_t report_failures();

// Simulated time formatted for log lines, e.g. "1.000000200 us".
std::string now_text();

inline sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }
inline sc_core::sc_time ps(double v) { return sc_core::sc_time(v, sc_core::SC_PS); }
// `n` cycles of a clock of frequency f_MHz.
inline sc_core::sc_time cycles(double n, double f_MHz) {
  return sc_core::sc_time(n * 1e6 / f_MHz, sc_core::SC_PS);
}
// A time as integer picoseconds (the traces' unit): exact when the kernel's time
// resolution is a whole number of picoseconds (the default, 1 ps), rounded otherwise.
std::uint64_t to_ps(const sc_core::sc_time& t);

}  // namespace memplast::sim
