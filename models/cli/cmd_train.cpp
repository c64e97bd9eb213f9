// `memplast train`: sequential task training, writing summary.json, accuracy.csv,
// energy.csv and writes_per_device.csv into --out (and, with --report, report.html).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/checkpoint.hpp"
#include "cli/cli.hpp"
#include "cli/memory_check.hpp"
#include "cli/progress.hpp"
#include "cli/stop.hpp"
#include "cli/train_run.hpp"
#include "common/output.hpp"
#include "report/report.hpp"

namespace memplast::cli {

namespace {

struct TrainOptions {
  CommonOptions common;
  std::string mode;
  std::string progress{"auto"};
  bool report{false};
  std::string resume;
  bool force{false};
};

// --resume DIR: the checkpoint and its configuration. A --config/--set/--mode given too
// must resolve to the same configuration; --out, if given, must name DIR.
LoadedConfig load_resumed(const TrainOptions& o, const std::vector<std::string>& overrides,
                          const CLI::Option* out_opt, std::optional<Checkpoint>& ckpt) {
  if (out_opt->count() > 0 &&
      std::filesystem::path(o.common.out_dir) != std::filesystem::path(o.resume)) {
    throw std::runtime_error(
        fmt::format("--resume {} continues in that folder; --out {} names another", o.resume,
                    o.common.out_dir));
  }
  ckpt = read_checkpoint(o.resume);
  const auto origin = (ckpt->file.string() + " (its configuration)");
  nlohmann::json resolved = ckpt->header["config"];
  if (!o.common.config_file.empty() || !overrides.empty()) {
    const auto given = load_config(o.common.config_file, overrides);
    auto diff = config_differences(resolved, given.resolved);
    // Keys that change the simulator's speed and nothing it computes (docs/bus.md, "Lazy
    // synchronization") may differ: the given value is used.
    for (const std::string key : {"host.lazy_sync", "sim.threads"}) {
      const auto it = std::find(diff.begin(), diff.end(), key);
      if (it == diff.end()) continue;
      diff.erase(it);
      std::string ptr = "/" + key;
      std::replace(ptr.begin(), ptr.end(), '.', '/');
      resolved[nlohmann::json::json_pointer(ptr)] =
          given.resolved.at(nlohmann::json::json_pointer(ptr));
    }
    if (!diff.empty()) {
      std::string keys;
      for (const auto& k : diff) keys += (keys.empty() ? "" : ", ") + k;
      throw std::runtime_error(
          fmt::format("--resume {}: the configuration given differs from the checkpoint's in {}; "
                      "resume without --config/--set/--mode to use the checkpoint's",
                      ckpt->file.string(), keys));
    }
  }
  return load_config_json(resolved, origin, {});
}

// A folder that holds an earlier run's results is refused unless --force (which
// removes them first, in run_train) or --resume.
void refuse_earlier_results(const std::string& out_dir) {
  for (const auto& f : train_result_files()) {
    const auto p = std::filesystem::path(out_dir) / f;
    if (std::filesystem::exists(p)) {
      throw std::runtime_error(
          fmt::format("--out {}: the folder holds an earlier run's results ({}); use --force to "
                      "replace them, --resume {} to continue that run, or another --out",
                      out_dir, p.string(), out_dir));
    }
  }
}

// Where an interrupted run stopped and how to continue it; exits with kExitInterrupted.
[[noreturn]] void report_interrupted(const nlohmann::json& summary,
                                     const std::filesystem::path& out) {
  const auto& s = summary["stopped"];
  std::cerr << fmt::format(
      "memplast: interrupted by {} in task {} epoch {} after {} of {} batches; outputs so far "
      "in {}/ (summary.json \"status\": \"interrupted\"); continue with memplast train "
      "--resume {}\n",
      s["signal"].get<std::string>(), s["task"].get<std::string>(), s["epoch"].get<int>(),
      s["batches_done"].get<std::size_t>(), s["batches_total"].get<std::size_t>(), out.string(),
      out.string());
  throw ExitStatus{kExitInterrupted};
}

// The accuracies after each task, the writes, time and energy.
void print_results(const nlohmann::json& summary, const std::filesystem::path& out) {
  const auto& at = summary["accuracy"]["after_task"];
  for (const auto& rec : at) {
    std::string line = fmt::format("after {}:", rec["task"].get<std::string>());
    for (auto it = rec["accuracy"].begin(); it != rec["accuracy"].end(); ++it) {
      line += fmt::format(" {} {:.2f} %", it.key(), 100.0 * it.value().get<double>());
    }
    std::cout << line << "\n";
  }
  std::cout << fmt::format(
      "writes per device: max {} p99 {} mean {:.3f}; wall {:.1f} s, {:.0f} samples/s; "
      "simulated {:.6f} s; energy {:.6e} J\n",
      summary["writes_per_device"]["max"].get<double>(),
      summary["writes_per_device"]["p99"].get<double>(),
      summary["writes_per_device"]["mean"].get<double>(), summary["wall_time_s"].get<double>(),
      summary["samples_per_second"].get<double>(), summary["simulated_time_s"].get<double>(),
      summary["energy_j"]["total"].get<double>());
  std::cout << "results in " << out.string() << "/\n";
}

void run_train_command(const TrainOptions& o, const CLI::Option* out_opt) {
  auto overrides = o.common.overrides;
  if (!o.mode.empty()) overrides.push_back("train.mode=" + o.mode);
  std::optional<Checkpoint> ckpt;
  LoadedConfig loaded;
  std::string out_dir = o.common.out_dir;
  if (!o.resume.empty()) {
    loaded = load_resumed(o, overrides, out_opt, ckpt);
    out_dir = o.resume;
  } else {
    loaded = load_config(o.common.config_file, overrides);
  }
  configure_logging(*loaded.config);
  // A run that cannot fit in memory is refused before anything is built.
  check_train_memory(*loaded.config);
  if (o.resume.empty() && !o.force) refuse_earlier_results(out_dir);
  const auto out = prepare_out_dir(out_dir);
  Progress progress(Progress::parse(o.progress));
  install_stop_handlers();
  const auto summary = run_train(loaded, out, progress, ckpt ? &*ckpt : nullptr);
  if (summary["status"] == "interrupted") report_interrupted(summary, out);
  print_results(summary, out);
  if (o.report) print_report(report::write_report(out));
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto st = std::make_shared<TrainOptions>();
  auto* sub = app.add_subcommand(
      "train",
      "Train the tasks in order (default: MNIST then Fashion-MNIST) on the accelerator model");
  add_common_options(sub, st->common, "out/train");
  sub->add_option("--mode", st->mode,
                  "hardware (firmware drives the SystemC model) or functional (plain C++, no "
                  "timing); default: the key train.mode")
      ->check(CLI::IsMember({"hardware", "functional"}));
  sub->add_option("--progress", st->progress, "auto, bar, lines or none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))
      ->capture_default_str();
  sub->add_flag("--report", st->report,
                "At the end, write the run report (OUT/report.html, as memplast report OUT)");
  auto* resume_opt = sub->add_option(
      "--resume", st->resume,
      "Continue the run in this folder from its checkpoint.bin (written when a run is stopped "
      "by SIGINT/SIGTERM, or every train.checkpoint_every batches); the outputs go to the same "
      "folder. The configuration is the checkpoint's; --config/--set/--mode, if given, must "
      "resolve to the same");
  auto* force_opt = sub->add_flag(
      "--force", st->force,
      "Run into an --out folder that holds an earlier run's results: they are removed first");
  resume_opt->excludes(force_opt);
  const auto* out_opt = sub->get_option("--out");
  sub->callback([st, out_opt] { run_train_command(*st, out_opt); });
}

}  // namespace memplast::cli
