// Progress display for long runs: a one-line bar redrawn in place on a terminal,
// plain lines (one per ~10 % and per epoch) otherwise (CI logs, pipes).
#pragma once

#include <chrono>
#include <string>

#include "fw/trainer.hpp"

namespace memplast::cli {

class Progress {
 public:
  enum class Style { automatic, bar, lines, none };
  explicit Progress(Style s);
  void update(const fw::ProgressInfo& p);
  void finish();
  static Style parse(const std::string& s);

 private:
  bool bar_;
  bool none_;
  std::chrono::steady_clock::time_point last_draw_{};
  int last_decile_{-1};
  std::string last_task_;
  int last_epoch_{0};
  bool drawn_{false};
};

std::string format_duration(double s);

}  // namespace memplast::cli
