// `memplast infer`: evaluate a trained state (written by `memplast train` into
// <out>/state/) on the test sets, with that run's configuration plus --set overrides
// (e.g. other device parameters or another seed for a robustness study).
// --mode hardware (default): the SystemC top; the firmware writes the hidden weights
// into meta_unit's HIDDEN window, pv_ctrl programs every device from LEVELS, and the
// test sets run forward through the tiles over the bus (system::run_hardware_inference).
// --mode functional: the same cores and devices as plain C++ without timing.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/state.hpp"
#include "common/output.hpp"
#include "data/dataset.hpp"
#include "functional/functional.hpp"
#include "fw/trainer.hpp"
#include "system/run.hpp"

namespace memplast::cli {

namespace {

struct InferOptions {
  std::string state_dir;
  std::vector<std::string> overrides;
  std::vector<std::string> tasks;
  std::string out_dir{"out/infer"};
  std::string mode{"hardware"};
};

// The indices of the tasks to evaluate: those of `names` in `wanted`, or all of them
// when `wanted` is empty.
std::vector<std::size_t> select_tasks(const std::vector<std::string>& names,
                                      const std::vector<std::string>& wanted) {
  std::vector<std::size_t> selected;
  for (std::size_t t = 0; t < names.size(); ++t) {
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), names[t]) != wanted.end()) {
      selected.push_back(t);
    }
  }
  if (selected.empty()) throw std::runtime_error("--task: none of the given tasks is in the state");
  return selected;
}

// --mode hardware: the firmware programs the tiles and evaluates on the SystemC model;
// `result` receives the simulated time, energy and pv_ctrl counts.
std::vector<std::pair<std::size_t, double>> infer_hardware(const Config& cfg,
                                                           const TrainedState& state,
                                                           std::vector<data::TaskData> tasks,
                                                           const std::vector<std::string>& names,
                                                           const std::vector<std::size_t>& selected,
                                                           nlohmann::json& result) {
  auto hw = system::run_hardware_inference(cfg, state.hidden, state.batch_norms, std::move(tasks),
                                           names, selected);
  result["simulated_time_s"] = hw.simulated_time_s;
  result["programming_time_s"] = hw.programmed_s;
  result["energy_j"]["total"] = hw.energy_total;
  for (const auto& [k, v] : hw.energy_by_component) result["energy_j"]["by_component"][k] = v;
  result["pv_ctrl"] = {{"device_writes", hw.pv_stats.device_writes},
                       {"pulses", hw.pv_stats.pulses()},
                       {"verifies", hw.pv_stats.n_verify},
                       {"failures", hw.pv_stats.device_failures}};
  return hw.accuracy;
}

// --mode functional: the same cores and devices as plain C++, without timing.
std::vector<std::pair<std::size_t, double>> infer_functional(
    const Config& cfg, const std::vector<fw::LayerShape>& shapes, const TrainedState& state,
    std::vector<data::TaskData> tasks, const std::vector<std::string>& names,
    const std::vector<std::size_t>& selected) {
  std::vector<std::pair<std::size_t, double>> accuracy;
  functional::FunctionalAccelerator acc(cfg, shapes);
  for (std::size_t l = 0; l < shapes.size(); ++l)
    acc.load_hidden(static_cast<int>(l), state.hidden[l].data());
  fw::Trainer trainer(cfg.train, acc, static_cast<std::uint64_t>(cfg.sim.seed), std::move(tasks),
                      names);
  trainer.set_batch_norms(state.batch_norms);
  for (const auto t : selected) accuracy.emplace_back(t, trainer.evaluate(t));
  return accuracy;
}

void run_infer(const InferOptions& o) {
  const auto state = load_state(o.state_dir);
  auto overrides = o.overrides;
  overrides.push_back("train.mode=" + o.mode);
  const auto loaded =
      load_config_json(state.config, o.state_dir + "/state.json (config)", overrides);
  const Config& cfg = *loaded.config;
  configure_logging(cfg);
  auto names = state.tasks;
  std::vector<data::TaskData> tasks;
  for (const auto& n : names) tasks.push_back(data::load_task(cfg.sim.data_dir, n));
  const auto shapes = fw::Trainer::shapes(cfg.train);
  bool same = shapes.size() == state.shapes.size();
  for (std::size_t l = 0; same && l < shapes.size(); ++l)
    same = shapes[l].in == state.shapes[l].in && shapes[l].out == state.shapes[l].out;
  if (!same) {
    throw std::runtime_error(
        fmt::format("{}: the state's layer shapes do not match the configuration (train.hidden, "
                    "train.layers)",
                    o.state_dir));
  }
  const auto selected = select_tasks(names, o.tasks);
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json result;
  result["state"] = o.state_dir;
  result["mode"] = o.mode;
  result["config"] = loaded.resolved;
  const auto accuracy =
      o.mode == "hardware"
          ? infer_hardware(cfg, state, std::move(tasks), names, selected, result)
          : infer_functional(cfg, shapes, state, std::move(tasks), names, selected);
  std::uint64_t samples = 0;
  for (const auto& [t, a] : accuracy) {
    result["accuracy"][names[t]] = a;
    std::cout << fmt::format("{}: {:.2f} %\n", names[t], 100 * a);
    samples +=
        cfg.train.test_samples > 0 ? static_cast<std::uint64_t>(cfg.train.test_samples) : 10000;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result["wall_time_s"] = wall;
  result["samples_per_second"] = wall > 0 ? static_cast<double>(samples) / wall : 0.0;
  const auto out = prepare_out_dir(o.out_dir);
  write_file_atomic(out / "infer.json", result.dump(2) + "\n");
  std::cout << "results in " << out.string() << "/infer.json\n";
}

}  // namespace

void add_infer_command(CLI::App& app) {
  auto st = std::make_shared<InferOptions>();
  auto* sub = app.add_subcommand(
      "infer", "Evaluate a trained state (from memplast train --out DIR: DIR/state) on test sets");
  sub->add_option("--state", st->state_dir, "Folder of the trained state (<train out>/state)")
      ->required();
  sub->add_option("--set,-s", st->overrides,
                  "Override one key of the stored configuration: key=value (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  sub->add_option("--task", st->tasks, "Evaluate only these tasks (default: every trained task)");
  sub->add_option("--out,-o", st->out_dir, "Output folder")->capture_default_str();
  sub->add_option("--mode", st->mode,
                  "hardware: program and evaluate on the SystemC model through the firmware; "
                  "functional: the plain C++ model without timing")
      ->check(CLI::IsMember({"hardware", "functional"}))
      ->capture_default_str();
  sub->callback([st] { run_infer(*st); });
}

}  // namespace memplast::cli
