#include "common/stop.hpp"

#include <unistd.h>

namespace memplast {

namespace {
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_signal != 0) {
    // Second signal: stop at once with the default action of this signal.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal = sig;
  static const char msg[] =
      "\nmemplast: stopping at the next batch boundary (signal again to stop at once)\n";
  const auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)n;
}

void install(struct sigaction* old_int, struct sigaction* old_term) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, old_int);
  sigaction(SIGTERM, &sa, old_term);
}
}  // namespace

void install_stop_handlers() { install(nullptr, nullptr); }

int stop_signal() { return static_cast<int>(g_signal); }

std::string signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(sig);
}

StopScope::StopScope() {
  g_signal = 0;
  install(&old_int_, &old_term_);
}

StopScope::~StopScope() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

}  // namespace memplast
