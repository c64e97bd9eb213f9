#include "cli/train_run.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "cli/state.hpp"
#include "cli/stop.hpp"
#include "common/histogram.hpp"
#include "common/isa.hpp"
#include "common/ledger_json.hpp"
#include "common/log.hpp"
#include "common/output.hpp"
#include "common/power_series.hpp"
#include "common/state_io.hpp"
#include "common/thread_pool.hpp"
#include "common/version.hpp"
#include "data/dataset.hpp"
#include "functional/functional.hpp"
#include "fw/trainer.hpp"
#include "system/run.hpp"

namespace memplast::cli {

using nlohmann::json;

json distribution_summary(const std::vector<std::uint32_t>& v) {
  json j;
  if (v.empty()) {
    j["max"] = 0.0;
    j["p99"] = 0.0;
    j["mean"] = 0.0;
    return j;
  }
  const CountHistogram h = count_histogram(v);
  const std::size_t k =
      std::min(v.size() - 1, static_cast<std::size_t>(0.99 * static_cast<double>(v.size())));
  j["max"] = static_cast<double>(max_value(h));
  j["p99"] = static_cast<double>(nth_smallest(h, k));
  // Exact: the sum is an integer below 2^53.
  j["mean"] = static_cast<double>(value_sum(h)) / static_cast<double>(v.size());
  j["devices"] = v.size();
  return j;
}

namespace {
std::string histogram_csv(const std::vector<std::uint32_t>& v) {
  std::string out = "writes,devices\n";
  if (v.empty()) return out;
  const CountHistogram h = count_histogram(v);
  for (auto&& b : boost::histogram::indexed(h))
    if (*b > 0) out += fmt::format("{},{}\n", b.bin(), *b);
  return out;
}
}  // namespace

const std::vector<std::string>& train_result_files() {
  static const std::vector<std::string> files{
      "summary.json", "accuracy.csv", "energy.csv",       "writes_per_device.csv",
      "trace.json",   "waves.vcd",    "state/state.json", kCheckpointFile,
      "report.html",  "power.csv",    "histograms.json"};
  return files;
}

json run_train(const LoadedConfig& loaded, const std::filesystem::path& out, Progress& progress,
               const Checkpoint* resume) {
  const Config& cfg = *loaded.config;
  const auto wall0 = std::chrono::steady_clock::now();
  // An earlier run's results must not pose as this run's: summary.json (the mark of a
  // finished run) goes first, then the files it describes. A resumed run keeps the
  // checkpoint it continues from (replaced atomically by the next one).
  for (const auto& f : train_result_files()) {
    if (resume && f == kCheckpointFile) continue;
    std::error_code ec;
    std::filesystem::remove(out / f, ec);
    if (ec)
      throw std::runtime_error(fmt::format("{}: cannot remove the earlier run's file: {}",
                                           (out / f).string(), ec.message()));
  }
  // An output folder we cannot write to is an error now, not after the training.
  write_file_atomic(out / ".memplast-write-check", "");
  std::filesystem::remove(out / ".memplast-write-check");
  const auto names = fw::task_list(cfg.train);
  // Stop cleanly at the next batch boundary after SIGINT / SIGTERM (cli/stop.hpp), with
  // a checkpoint there; periodic checkpoints.
  std::uint64_t stop_after = 0;  // MEMPLAST_STOP_AFTER_BATCHES (test trigger)
  if (const char* e = std::getenv("MEMPLAST_STOP_AFTER_BATCHES"); e != nullptr && *e != '\0') {
    char* end = nullptr;
    stop_after = std::strtoull(e, &end, 10);
    if (end == nullptr || *end != '\0' || stop_after == 0)
      throw std::runtime_error(fmt::format(
          "MEMPLAST_STOP_AFTER_BATCHES='{}': expected a positive number of batches", e));
  }
  bool test_stop = false;
  bool first_boundary = true;
  auto last_checkpoint = std::chrono::steady_clock::now();
  const fw::CheckpointBoundaryFn boundary = [&](const fw::TrainPosition& p,
                                                const fw::SnapshotFn& snapshot) {
    // The boundary a resumed run starts at is the checkpoint's own: nothing to write.
    const bool at_resume = resume != nullptr && first_boundary;
    first_boundary = false;
    bool stop = stop_requested();
    if (!at_resume && stop_after > 0 && p.batches_done == stop_after) {
      stop = true;
      test_stop = true;
    }
    const auto now = std::chrono::steady_clock::now();
    const auto every = static_cast<std::uint64_t>(cfg.train.checkpoint_every);
    const bool periodic =
        !at_resume && ((every > 0 && p.batches_done > 0 && p.batches_done % every == 0) ||
                       (cfg.train.checkpoint_minutes > 0 &&
                        std::chrono::duration<double>(now - last_checkpoint).count() >=
                            60.0 * cfg.train.checkpoint_minutes));
    if (stop || periodic) {
      StateIO io = StateIO::writer();
      snapshot(io);
      json header;
      header["memplast_version"] = kVersion;
      header["mode"] = cfg.train.mode;
      header["config"] = loaded.resolved;
      header["config_source"] =
          resume ? resume->header.value("config_source", loaded.source) : loaded.source;
      header["position"] = {{"task", names.at(p.task)},
                            {"epoch", p.epoch + 1},
                            {"batches_done_in_epoch", p.batch},
                            {"batches_done", p.batches_done},
                            {"batches_total", p.batches_total}};
      write_checkpoint(out, header, io.buffer());
      last_checkpoint = now;
    }
    return stop;
  };
  std::vector<data::TaskData> tasks;
  for (const auto& n : names) tasks.push_back(data::load_task(cfg.sim.data_dir, n));

  fw::TrainResult res;
  fw::AccelStats stats;
  TrainedState state;
  state.config = loaded.resolved;
  state.tasks = names;
  {
    const auto sh = fw::Trainer::shapes(cfg.train);
    state.shapes.assign(sh.begin(), sh.end());
  }
  double simulated_s = 0;
  EnergyLedger ledger;
  std::uint64_t hidden = 0;
  std::uint64_t opt = 0;
  std::uint64_t stored = 0;
  if (cfg.train.mode == "functional" && (cfg.rtl.meta || cfg.rtl.pv)) {
    throw cfg::ConfigError(fmt::format(
        "key '{}': the RTL blocks run inside the SystemC model only (train.mode = hardware, "
        "--mode hardware), not in the functional mode",
        cfg.rtl.meta ? "rtl.meta" : "rtl.pv"));
  }
  if (cfg.train.mode == "functional") {
    const auto shapes = fw::Trainer::shapes(cfg.train);
    auto acc = std::make_unique<functional::FunctionalAccelerator>(cfg, shapes);
    fw::Trainer trainer(cfg.train, *acc, static_cast<std::uint64_t>(cfg.sim.seed), std::move(tasks),
                        names);
    if (resume) {
      StateIO io = StateIO::reader(resume->state, resume->file.string());
      trainer.state_io(io, {});
      acc->state_io(io);
      io.expect_end();
    }
    // power.csv: the ledger after the initial programming (or the resume), at every batch
    // boundary, at the end.
    PowerSeries power;
    power.sample(acc->now_s(), acc->ledger());
    trainer.set_boundary([&](const fw::TrainPosition& p) {
      power.sample(acc->now_s(), acc->ledger());
      return boundary(p, [&](StateIO& io) {
        trainer.state_io(io, p);
        acc->state_io(io);
      });
    });
    trainer.set_phase_hook([&](const fw::PhaseMark& m) {
      if (!m.resumed) acc->mark_phase(m.begin, m.name);
    });
    res = trainer.run([&](const fw::ProgressInfo& p) { progress.update(p); });
    // Phase "readback", as the hardware mode's run reads the trained hidden weights.
    acc->readback();
    power.sample(acc->now_s(), acc->ledger());
    acc->close_ledger();
    ledger = acc->ledger();
    state.batch_norms = trainer.batch_norms();
    for (int l = 0; l < static_cast<int>(state.shapes.size()); ++l) {
      auto& eng = acc->engine(l);
      std::vector<float> h(eng.size());
      for (std::size_t i = 0; i < h.size(); ++i) h[i] = eng.hidden(i);
      state.hidden.push_back(std::move(h));
    }
    stats = acc->stats();
    stats.power_csv = power.csv();
    simulated_s = acc->now_s();
    hidden = acc->memory_hidden_bits();
    opt = acc->memory_optimizer_bits();
    stored = acc->memory_stored_bits();
  } else {
    // Hardware mode: the SystemC system (models/system), firmware through the HAL.
    auto hw = system::run_hardware_training(
        cfg, std::move(tasks), names, [&](const fw::ProgressInfo& p) { progress.update(p); }, {},
        out,
        system::Checkpointing{boundary, resume ? &resume->state : nullptr,
                              resume ? resume->file.string() : std::string()});
    res = std::move(hw.train);
    state.hidden = std::move(hw.hidden);
    state.batch_norms = std::move(hw.batch_norms);
    stats = std::move(hw.stats);
    ledger = std::move(hw.ledger);
    simulated_s = hw.simulated_time_s;
    hidden = hw.memory_hidden_bits;
    opt = hw.memory_optimizer_bits;
    stored = hw.memory_stored_bits;
  }
  progress.finish();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  // ---- accuracy.csv ----
  std::string acc_csv = "trained_task,epoch,evaluated_task,accuracy,simulated_time_s,wall_time_s\n";
  for (const auto& r : res.per_epoch) {
    for (const auto& [task, a] : r.accuracy) {
      acc_csv += fmt::format("{},{},{},{:.6f},{:.9e},{:.3f}\n", r.trained_task, r.epoch, task, a,
                             r.simulated_time_s, r.wall_time_s);
    }
  }

  json summary;
  summary["schema_version"] = kSummarySchemaVersion;
  summary["memplast_version"] = kVersion;
  summary["status"] = res.interrupted ? "interrupted" : "complete";
  if (res.interrupted) {
    const auto& p = res.stopped_at;
    summary["stopped"] = {
        {"signal", test_stop && stop_signal() == 0 ? std::string("MEMPLAST_STOP_AFTER_BATCHES")
                                                   : signal_name(stop_signal())},
        {"checkpoint", kCheckpointFile},
        {"task", names.at(p.task)},
        {"epoch", p.epoch + 1},
        {"batches_done_in_epoch", p.batch},
        {"batches_done", p.batches_done},
        {"batches_total", p.batches_total}};
  }
  summary["mode"] = cfg.train.mode;
  summary["seed"] = cfg.sim.seed;
  summary["config"] = loaded.resolved;
  summary["config_source"] =
      resume ? resume->header.value("config_source", loaded.source) : loaded.source;
  // The instruction-set path of each run-time dispatched kernel (common/isa.hpp).
  summary["isa"] = {{"meta_fixed", isa_name(select_isa("MEMPLAST_META_ISA"))},
                    {"tile_mvm", isa_name(select_isa("MEMPLAST_TILE_ISA"))},
                    {"host_gemm", isa_name(select_isa("MEMPLAST_HOST_ISA"))}};
  // The worker threads (sim.threads): a speed measure that changes no result, so it is
  // logged, not in summary.json (regress_threads reads the line).
  MP_LOG(log::Logger("threads"), debug,
         "sim.threads: {} threads, {} parallel sections, {} deferred jobs, {} tasks on workers",
         pool().size(), pool().parallel_sections(), pool().jobs_submitted(), pool().worker_tasks());
  json after = json::array();
  for (const auto& r : res.after_task) {
    json a;
    a["task"] = r.trained_task;
    a["accuracy"] = r.accuracy;
    after.push_back(a);
  }
  summary["accuracy"]["after_task"] = after;
  json per_epoch = json::array();
  for (const auto& r : res.per_epoch) {
    per_epoch.push_back({{"task", r.trained_task}, {"epoch", r.epoch}, {"accuracy", r.accuracy}});
  }
  summary["accuracy"]["per_epoch"] = per_epoch;
  summary["wall_time_s"] = wall;
  summary["train_wall_time_s"] = res.train_wall_s;
  summary["simulated_time_s"] = simulated_s;
  summary["samples_trained"] = res.samples_trained;
  summary["samples_per_second"] =
      res.train_wall_s > 0 ? static_cast<double>(res.samples_trained) / res.train_wall_s : 0.0;
  summary["energy_j"]["total"] = stats.energy_total;
  summary["energy_j"]["by_component"] = stats.energy_by_component;
  {
    // The ledger (energy.csv's rows), the time by phase, the per-sample cost.
    auto ls = ledger_summary(ledger, res.samples_trained, res.samples_evaluated);
    summary["samples_evaluated"] = res.samples_evaluated;
    summary["ledger"] = std::move(ls.ledger);
    summary["time_s"] = std::move(ls.time);
    summary["per_sample"] = std::move(ls.per_sample);
  }
  summary["writes_per_device"] = distribution_summary(stats.writes_per_device);
  summary["pulses_per_device"] = distribution_summary(stats.pulses_per_device);
  summary["level_changes"] = stats.level_changes;
  // train.refresh_every_epochs: the refreshes' count, pulses and simulated time (their
  // energy: ledger.by_phase_j.refresh).
  summary["refresh"] = {
      {"count", res.refreshes}, {"pulses", res.refresh_pulses}, {"simulated_s", res.refresh_s}};
  summary["pv_failures"] = stats.pv_failures;
  if (!stats.faults.empty()) summary["faults"] = stats.faults;
  summary["memory_bits"] = {{"hidden", hidden},
                            {"optimizer", opt},
                            {"stored", stored},
                            {"task_specific", res.bn_bits},
                            {"total", hidden + stored + res.bn_bits}};
  if (stats.devices_allocated > 0) {
    // The model's own memory for the tiles (not the device's): bytes per device of the
    // device model's per-cell state, and the tiles' caches (docs/performance.md).
    const auto n = static_cast<double>(stats.devices_allocated);
    summary["state_bytes"] = {
        {"devices", stats.devices_allocated},
        {"device_state", stats.device_state_bytes},
        {"per_device", static_cast<double>(stats.device_state_bytes) / n},
        {"tile_caches", stats.tile_cache_bytes},
        {"tile_caches_per_device", static_cast<double>(stats.tile_cache_bytes) / n}};
  }

  write_file_atomic(out / "accuracy.csv", acc_csv);
  write_file_atomic(out / "energy.csv",
                    stats.energy_csv.empty() ? EnergyLedger::kCsvHeader : stats.energy_csv);
  write_file_atomic(out / "writes_per_device.csv", histogram_csv(stats.writes_per_device));
  // For the run report (docs/report.md): power.csv, and histograms.json (the device
  // histograms of the run, plus pulses per device).
  write_file_atomic(out / "power.csv", stats.power_csv);
  {
    json hist = stats.histograms_json.empty() ? json::object() : json::parse(stats.histograms_json);
    if (!stats.pulses_per_device.empty()) {
      json values = json::array();
      json devices = json::array();
      const CountHistogram ph = count_histogram(stats.pulses_per_device);
      for (auto&& b : boost::histogram::indexed(ph)) {
        if (*b == 0) continue;
        values.push_back(b.bin());
        devices.push_back(*b);
      }
      hist["pulses_per_device"] = {{"values", values}, {"devices", devices}};
    }
    write_file_atomic(out / "histograms.json", hist.dump(1) + "\n");
  }
  if (!stats.adc_profile_json.empty())
    write_file_atomic(out / "adc_profile.json", stats.adc_profile_json);
  save_state(out / "state", state);
  // summary.json last: its presence marks a finished run ("status": "complete"), or one
  // stopped by a signal ("interrupted", with "stopped": where).
  write_file_atomic(out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace memplast::cli
