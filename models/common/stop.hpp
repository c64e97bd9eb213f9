// Clean stop on SIGINT / SIGTERM, shared by every long-running command.
//
// The first SIGINT or SIGTERM only sets a flag that the command polls at a safe point
// (`memplast train` at every batch boundary, `memplast sweep` in its scheduling loop).
// A second signal restores the default action and re-raises it: the process ends at
// once (the shell sees 128 + signal, e.g. 130 for SIGINT); every output file is written
// atomically (temporary file + rename), so the files already written stay intact.
#pragma once

#include <csignal>
#include <string>

namespace memplast {

// Installs the handlers for the rest of the process.
void install_stop_handlers();
// The first signal received (SIGINT, SIGTERM) since the handlers were installed, 0 if none.
[[nodiscard]] int stop_signal();
[[nodiscard]] inline bool stop_requested() { return stop_signal() != 0; }
// "SIGINT", "SIGTERM", or "signal N".
[[nodiscard]] std::string signal_name(int sig);

// The same handlers for a scope: clears the flag, installs them, and puts the previous
// handlers back on exit.
class StopScope {
 public:
  StopScope();
  ~StopScope();
  StopScope(const StopScope&) = delete;
  StopScope& operator=(const StopScope&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace memplast
