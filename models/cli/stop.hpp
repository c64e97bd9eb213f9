// Clean stop on SIGINT / SIGTERM for long runs.
//
// install_stop_handlers() makes the first SIGINT or SIGTERM only set a flag: the
// training firmware polls stop_requested() at every batch boundary, stops there, and
// `memplast train` writes the outputs reached so far with summary.json
// "status": "interrupted", then exits with kExitInterrupted. A second signal restores
// the default action and re-raises it: the process ends at once (the shell sees
// 128 + signal, e.g. 130 for SIGINT); every output file is written atomically
// (temporary file + rename), so the files already in the folder stay intact.
#pragma once

#include <string>

namespace memplast::cli {

// Exit status of a run stopped cleanly by a signal (outputs written, status interrupted).
inline constexpr int kExitInterrupted = 3;

void install_stop_handlers();
// The first signal received (SIGINT, SIGTERM), 0 if none.
[[nodiscard]] int stop_signal();
[[nodiscard]] inline bool stop_requested() { return stop_signal() != 0; }
// "SIGINT", "SIGTERM", or "signal N".
[[nodiscard]] std::string signal_name(int sig);

// Thrown by a subcommand to end the process with a given status after its outputs are
// written (main() catches it).
struct ExitStatus {
  int code;
};

}  // namespace memplast::cli
