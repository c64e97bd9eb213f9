// Sweep results: the state of each run folder (complete, failed, missing), statistics
// over seeds (mean, sample standard deviation, 95 % confidence interval from Student's
// t distribution), the Pareto front over two metrics, and results.csv/results.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "explore/sweep_spec.hpp"

namespace memplast::explore {

// Run folder of (point, seed) under the sweep's output folder.
std::filesystem::path run_dir(const std::filesystem::path& out, const Point& p, std::int64_t seed);

// A run counts as complete when its summary.json parses and says so: a "status" of
// "complete", or no "status" at all (summaries written before the field existed; they
// are written atomically and last, so a present one belongs to a finished run).
// Anything else (missing, unparsable, "interrupted") is not complete.
bool run_complete(const std::filesystem::path& dir, nlohmann::json* summary = nullptr);

// Exit record a backend writes into a run folder after the run ends (sweep_exit.json).
struct ExitRecord {
  int exit_status{0};  // process exit status; 128 + signal when killed by a signal
  std::string error;   // last lines of the run's log when it failed
  double wall_s{0};
  std::string backend;
  std::string job;  // Slurm job id, if any
};
void write_exit_record(const std::filesystem::path& dir, const ExitRecord& r);
std::optional<ExitRecord> read_exit_record(const std::filesystem::path& dir);
// The last `lines` lines of a text file (the run's log), for error reports.
std::string tail_lines(const std::filesystem::path& file, int lines);

struct Stats {
  std::size_t n{0};
  double mean{0};
  double std{0};    // sample standard deviation (n - 1); 0 when n == 1
  double ci_lo{0};  // mean -+ t(0.975, n-1) * std / sqrt(n); equal to mean when n == 1
  double ci_hi{0};
};
Stats compute_stats(const std::vector<double>& v);
// Two-sided 95 % quantile t(0.975, df) of Student's t distribution.
double t_quantile_975(std::size_t df);

// Non-dominated points: point i is on the front unless some j is at least as good in
// both metrics and better in one. Points without a value are never on it.
std::vector<bool> pareto_front(const std::vector<std::optional<std::pair<double, double>>>& xy,
                               bool x_maximize, bool y_maximize);

struct Aggregate {
  nlohmann::json json;  // results.json
  std::string csv;      // results.csv
  std::size_t complete{0};
  std::size_t failed{0};
  std::size_t missing{0};
  std::vector<std::string> metric_errors;  // a metric that did not resolve in a complete run
};

// Read every run folder of the sweep and aggregate. Reads only; writes nothing.
Aggregate aggregate(const SweepSpec& spec, const std::filesystem::path& out);

}  // namespace memplast::explore
