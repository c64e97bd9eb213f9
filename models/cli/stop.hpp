// Exit statuses of the commands (the clean-stop mechanism itself is common/stop.hpp).
//
// `memplast train` stopped by a first SIGINT/SIGTERM writes the outputs reached so far
// with summary.json "status": "interrupted", then exits with kExitInterrupted.
#pragma once

#include "common/stop.hpp"

namespace memplast::cli {

using memplast::install_stop_handlers;
using memplast::signal_name;
using memplast::stop_requested;
using memplast::stop_signal;

// Exit status of a run stopped cleanly by a signal (outputs written, status interrupted).
inline constexpr int kExitInterrupted = 3;

// Thrown by a subcommand to end the process with a given status after its outputs are
// written (main() catches it).
struct ExitStatus {
  int code;
};

}  // namespace memplast::cli
