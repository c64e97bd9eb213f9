#include "cli/progress.hpp"

#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>
#include <unistd.h>

namespace memplast::cli {

std::string format_duration(double s) {
  if (s < 0 || s != s) return "--";
  const auto total = static_cast<long>(s + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02d}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02d}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

namespace {
std::string sim_time(double s) {
  if (s <= 0) return "0";
  if (s < 1e-3) return fmt::format("{:.1f} us", s * 1e6);
  if (s < 1) return fmt::format("{:.2f} ms", s * 1e3);
  return fmt::format("{:.3f} s", s);
}
}  // namespace

Progress::Style Progress::parse(const std::string& s) {
  if (s == "auto") return Style::automatic;
  if (s == "bar") return Style::bar;
  if (s == "lines") return Style::lines;
  if (s == "none") return Style::none;
  throw std::invalid_argument("--progress must be auto, bar, lines or none, got '" + s + "'");
}

Progress::Progress(Style s)
    : bar_(s == Style::bar || (s == Style::automatic && ::isatty(STDERR_FILENO) != 0)),
      none_(s == Style::none) {}

void Progress::update(const fw::ProgressInfo& p) {
  if (none_) return;
  const double frac = p.batches_total ? static_cast<double>(p.batches_done_total) /
                                            static_cast<double>(p.batches_total)
                                      : 0.0;
  const double eta = frac > 0 ? p.wall_time_s * (1 - frac) / frac : -1;
  const auto now = std::chrono::steady_clock::now();
  if (bar_) {
    if (p.batches_done_total != p.batches_total &&
        now - last_draw_ < std::chrono::milliseconds(200)) {
      return;
    }
    last_draw_ = now;
    const int width = 24;
    const int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width - filled), '.');
    std::fprintf(stderr, "\r[%s] %3.0f%% %s epoch %d/%d batch %zu/%zu acc %.3f sim %s ETA %s   ",
                 bar.c_str(), frac * 100, p.task.c_str(), p.epoch, p.epochs, p.batch, p.batches,
                 p.running_accuracy, sim_time(p.simulated_time_s).c_str(),
                 format_duration(eta).c_str());
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  const int decile = static_cast<int>(frac * 10);
  const bool epoch_end = p.batch == p.batches;
  if (decile != last_decile_ || epoch_end) {
    last_decile_ = decile;
    std::fprintf(stderr,
                 "[train] %3.0f%% task %s epoch %d/%d batch %zu/%zu train-acc %.4f sim %s "
                 "wall %s ETA %s\n",
                 frac * 100, p.task.c_str(), p.epoch, p.epochs, p.batch, p.batches,
                 p.running_accuracy, sim_time(p.simulated_time_s).c_str(),
                 format_duration(p.wall_time_s).c_str(), format_duration(eta).c_str());
  }
}

void Progress::finish() {
  if (bar_ && drawn_) std::fprintf(stderr, "\n");
}

}  // namespace memplast::cli
