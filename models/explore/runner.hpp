// Running a sweep's runs: each run is `memplast train --config RUN/config.json --out
// RUN` in its own process (SystemC allows one elaboration per process), on a local
// job pool or as a Slurm job array. Both backends skip complete runs, rerun failed and
// missing ones, and record each run's exit status and error in RUN/sweep_exit.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "explore/sweep_spec.hpp"

namespace memplast::explore {

struct RunTask {
  std::size_t point{0};
  std::int64_t seed{0};
  std::filesystem::path dir;  // absolute
};

struct RunnerOptions {
  std::filesystem::path bin;  // the memplast binary the runs use
  std::filesystem::path out;  // absolute sweep folder
  int jobs{1};                // local: concurrent runs
  double poll_s{2.0};         // slurm: squeue polling period
  SlurmSpec slurm;            // slurm: partition, time, resources
};

struct RunnerResult {
  std::size_t ran{0};
  std::size_t failed{0};
  bool interrupted{false};   // SIGINT/SIGTERM: children stopped, job cancelled
  std::string metric_error;  // set when a complete run lacked a metric: the sweep stopped
};

// Write RUN/config.json (the resolved configuration, data.dir made absolute) for every
// run that is not complete, and return those runs. Complete runs are left untouched.
std::vector<RunTask> prepare_runs(const SweepSpec& spec,
                                  const std::vector<std::vector<nlohmann::json>>& configs,
                                  const std::filesystem::path& out, std::size_t* already_complete);

RunnerResult run_local(const SweepSpec& spec, const std::vector<RunTask>& tasks,
                       const RunnerOptions& opt);
RunnerResult run_slurm(const SweepSpec& spec, const std::vector<RunTask>& tasks,
                       const RunnerOptions& opt);

// One run in this process's child, waited for, its exit record written (the Slurm
// array task's body: `memplast sweep-task RUN`). Returns the run's exit status.
int run_task_blocking(const std::filesystem::path& bin, const std::filesystem::path& dir,
                      const std::string& backend, const std::string& job);

}  // namespace memplast::explore
