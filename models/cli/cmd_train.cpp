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

void add_train_command(CLI::App& app) {
  struct State {
    CommonOptions common;
    std::string mode;
    std::string progress{"auto"};
    bool report{false};
    std::string resume;
    bool force{false};
  };
  auto st = std::make_shared<State>();
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
  auto* out_opt = sub->get_option("--out");
  sub->callback([st, out_opt] {
    auto overrides = st->common.overrides;
    if (!st->mode.empty()) overrides.push_back("train.mode=" + st->mode);
    std::optional<Checkpoint> ckpt;
    LoadedConfig loaded;
    std::string out_dir = st->common.out_dir;
    if (!st->resume.empty()) {
      if (out_opt->count() > 0 &&
          std::filesystem::path(st->common.out_dir) != std::filesystem::path(st->resume)) {
        throw std::runtime_error(
            fmt::format("--resume {} continues in that folder; --out {} names another", st->resume,
                        st->common.out_dir));
      }
      out_dir = st->resume;
      ckpt = read_checkpoint(st->resume);
      const auto origin = (ckpt->file.string() + " (its configuration)");
      loaded = load_config_json(ckpt->header["config"], origin, {});
      if (!st->common.config_file.empty() || !overrides.empty()) {
        const auto given = load_config(st->common.config_file, overrides);
        const auto diff = config_differences(ckpt->header["config"], given.resolved);
        if (!diff.empty()) {
          std::string keys;
          for (const auto& k : diff) keys += (keys.empty() ? "" : ", ") + k;
          throw std::runtime_error(fmt::format(
              "--resume {}: the configuration given differs from the checkpoint's in {}; "
              "resume without --config/--set/--mode to use the checkpoint's",
              ckpt->file.string(), keys));
        }
      }
    } else {
      loaded = load_config(st->common.config_file, overrides);
    }
    configure_logging(*loaded.config);
    // A run that cannot fit in memory is refused before anything is built.
    check_train_memory(*loaded.config);
    // A folder that holds an earlier run's results is refused unless --force (which
    // removes them first, in run_train) or --resume.
    if (st->resume.empty() && !st->force) {
      for (const auto& f : train_result_files()) {
        const auto p = std::filesystem::path(out_dir) / f;
        if (std::filesystem::exists(p)) {
          throw std::runtime_error(fmt::format(
              "--out {}: the folder holds an earlier run's results ({}); use --force to "
              "replace them, --resume {} to continue that run, or another --out",
              out_dir, p.string(), out_dir));
        }
      }
    }
    const auto out = prepare_out_dir(out_dir);
    Progress progress(Progress::parse(st->progress));
    install_stop_handlers();
    const auto summary = run_train(loaded, out, progress, ckpt ? &*ckpt : nullptr);
    if (summary["status"] == "interrupted") {
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
    if (st->report) print_report(report::write_report(out));
  });
}

}  // namespace memplast::cli
