// `memplast sweep SPEC --out DIR`: expand a sweep specification into design points,
// run every (point, seed) that is not complete on the local job pool or as a Slurm job
// array, then aggregate results.csv and results.json (statistics over seeds, Pareto
// front). `memplast sweep-task RUN` is the body of one Slurm array task.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "explore/results.hpp"
#include "explore/runner.hpp"
#include "explore/sweep_spec.hpp"

namespace memplast::cli {

namespace fs = std::filesystem;

namespace {

// Exit statuses of `memplast sweep` besides 0 (every run complete) and 2 (bad spec).
constexpr int kExitRunsFailed = 3;     // the sweep went on; results list the failures
constexpr int kExitInterrupted = 130;  // SIGINT/SIGTERM: rerun to complete the rest

int write_results(const explore::SweepSpec& spec, const fs::path& out) {
  const auto agg = explore::aggregate(spec, out);
  write_file_atomic(out / "results.json", agg.json.dump(2) + "\n");
  write_file_atomic(out / "results.csv", agg.csv);
  std::cout << fmt::format(
      "sweep: {} points x {} seeds: {} runs complete, {} failed, {} missing; results in "
      "{}/results.csv and results.json\n",
      spec.points.size(), spec.seeds.size(), agg.complete, agg.failed, agg.missing, out.string());
  for (const auto& f : agg.json["failures"]) {
    std::cout << fmt::format("  failed: {} (exit status {}): {}\n", f["dir"].get<std::string>(),
                             f["exit_status"].get<int>(), f["error"].get<std::string>());
  }
  for (const auto& e : agg.metric_errors) std::cout << "  " << e << "\n";
  if (!agg.metric_errors.empty()) return 2;
  return agg.failed > 0 || agg.missing > 0 ? kExitRunsFailed : 0;
}

struct SweepOptions {
  std::string spec;
  std::string out{"out/sweep"};
  std::string backend{"local"};
  int jobs{0};
  std::string bin;
  bool report_only{false};
  bool dry_run{false};
  double poll_s{2.0};
  std::string partition;
  std::string time;
  int cpus_per_task{0};
  std::string mem;
  int max_parallel{-1};
  int chunk{0};
};

void add_sweep_options(CLI::App* sub, SweepOptions& o) {
  sub->add_option("spec", o.spec, "sweep specification (JSON)")->required();
  sub->add_option("--out", o.out, "sweep folder (one run folder per point and seed under points/)")
      ->capture_default_str();
  sub->add_option("--backend", o.backend, "local or slurm")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
  sub->add_option("--jobs,-j", o.jobs, "local: concurrent runs (default: the number of cores)")
      ->check(CLI::Range(1, 1024));
  sub->add_option("--bin", o.bin, "memplast binary the runs use (default: this one)");
  sub->add_option("--poll", o.poll_s, "slurm: squeue polling period in seconds")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  sub->add_option("--partition", o.partition,
                  "slurm: partition (overrides the spec's slurm.partition)");
  sub->add_option("--time", o.time,
                  "slurm: time limit per array task, e.g. 00:30:00 (overrides slurm.time)");
  sub->add_option("--cpus-per-task", o.cpus_per_task,
                  "slurm: CPUs per array task (overrides slurm.cpus_per_task)")
      ->check(CLI::Range(1, 4096));
  sub->add_option("--mem", o.mem, "slurm: memory per array task, e.g. 2G (overrides slurm.mem)");
  sub->add_option("--max-parallel", o.max_parallel,
                  "slurm: array tasks running at once, 0: no limit (overrides slurm.max_parallel)")
      ->check(CLI::Range(0, 1000000));
  sub->add_option("--chunk", o.chunk,
                  "slurm: runs per array task, run one after the other (overrides slurm.chunk)")
      ->check(CLI::Range(1, 1000000));
  sub->add_flag("--report", o.report_only, "only aggregate the runs already in --out; run nothing");
  sub->add_flag("--dry-run", o.dry_run, "validate and list the points; run nothing");
}

// The runner's options: the spec's Slurm settings, overridden by those given on the
// command line.
explore::RunnerOptions runner_options(const SweepOptions& o, const explore::SweepSpec& spec,
                                      const fs::path& out) {
  explore::RunnerOptions opt;
  opt.bin = o.bin.empty() ? fs::read_symlink("/proc/self/exe") : fs::absolute(o.bin);
  opt.out = out;
  opt.jobs =
      o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  opt.poll_s = o.poll_s;
  opt.slurm = spec.slurm;
  if (!o.partition.empty()) opt.slurm.partition = o.partition;
  if (!o.time.empty()) opt.slurm.time = o.time;
  if (o.cpus_per_task > 0) opt.slurm.cpus_per_task = o.cpus_per_task;
  if (!o.mem.empty()) opt.slurm.mem = o.mem;
  if (o.max_parallel >= 0) opt.slurm.max_parallel = o.max_parallel;
  if (o.chunk > 0) opt.slurm.chunk = o.chunk;
  return opt;
}

void run_sweep(const SweepOptions& o) {
  const auto spec = explore::load_spec(o.spec);
  // Every point's configuration is validated before any run starts.
  const auto configs = explore::validate_points(spec);
  const fs::path out = fs::absolute(o.out);
  if (o.dry_run) {
    for (const auto& p : spec.points) std::cout << p.name << "\n";
    std::cout << fmt::format("{} points x {} seeds = {} runs\n", spec.points.size(),
                             spec.seeds.size(), spec.points.size() * spec.seeds.size());
    return;
  }
  prepare_out_dir(out.string());
  if (o.report_only) {
    const int rc = write_results(spec, out);
    if (rc != 0) throw CLI::RuntimeError(rc);
    return;
  }
  {
    std::ifstream in(o.spec);
    std::stringstream ss;
    ss << in.rdbuf();
    write_file_atomic(out / "sweep.json", ss.str());
  }
  std::size_t complete = 0;
  const auto tasks = explore::prepare_runs(spec, configs, out, &complete);
  const auto opt = runner_options(o, spec, out);
  std::cerr << fmt::format(
      "sweep: {} points x {} seeds = {} runs; {} already complete, {} to run ({} backend{})\n",
      spec.points.size(), spec.seeds.size(), spec.points.size() * spec.seeds.size(), complete,
      tasks.size(), o.backend,
      o.backend == "local" ? fmt::format(", {} jobs", opt.jobs) : std::string());
  const auto res = o.backend == "slurm" ? explore::run_slurm(spec, tasks, opt)
                                        : explore::run_local(spec, tasks, opt);
  const int rc = write_results(spec, out);
  if (!res.metric_error.empty()) throw cfg::ConfigError(res.metric_error);
  if (res.interrupted) {
    std::cerr << "sweep: interrupted; rerun the same command to complete the missing runs\n";
    throw CLI::RuntimeError(kExitInterrupted);
  }
  if (rc != 0) throw CLI::RuntimeError(rc);
}

// `memplast sweep-task RUN`: the body of one Slurm array task.
void add_sweep_task_command(CLI::App& app) {
  struct TaskState {
    std::string dir;
    std::string job;
  };
  auto ts = std::make_shared<TaskState>();
  auto* task =
      app.add_subcommand("sweep-task", "One run of a sweep (the body of a Slurm array task)");
  task->group("");  // internal: not listed in --help
  task->add_option("run", ts->dir, "run folder holding config.json")->required();
  task->add_option("--job", ts->job, "Slurm job id, for the exit record");
  task->callback([ts] {
    const int rc = explore::run_task_blocking(fs::read_symlink("/proc/self/exe"),
                                              fs::absolute(ts->dir), "slurm", ts->job);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto st = std::make_shared<SweepOptions>();
  auto* sub = app.add_subcommand(
      "sweep",
      "Run a parameter sweep (spec: docs/exploration.md) on a local job pool or Slurm; "
      "resumable; writes results.csv/results.json with mean, std and 95 % CI over seeds");
  add_sweep_options(sub, *st);
  sub->callback([st] { run_sweep(*st); });
  add_sweep_task_command(app);
}

}  // namespace memplast::cli
