#include "fw/train_params.hpp"

#include <sstream>

#include <fmt/format.h>

namespace memplast::fw {

std::vector<std::string> task_list(const TrainParams& p) {
  std::vector<std::string> out;
  std::stringstream ss(p.tasks);
  for (std::string t; std::getline(ss, t, ',');) {
    if (!t.empty()) out.push_back(t);
  }
  return out;
}

std::vector<std::size_t> layer_widths(const TrainParams& p) {
  if (p.layers.empty()) return {kInputWidth, static_cast<std::size_t>(p.hidden), kClassCount};
  std::vector<std::size_t> w;
  w.reserve(p.layers.size());
  for (double v : p.layers) w.push_back(static_cast<std::size_t>(v));
  return w;
}

namespace {
// train.layers against train.hidden, the datasets' input and class counts, the widths'
// range (ConfigError naming the key).
void check_layers(const TrainParams& p) {
  if (p.layers.empty()) return;
  if (p.hidden != TrainParams{}.hidden) {
    throw cfg::ConfigError(fmt::format(
        "keys 'train.layers' and 'train.hidden' ({}) contradict: with train.layers given, "
        "the hidden widths are its inner entries; set one of them",
        p.hidden));
  }
  if (p.layers.size() < 2) {
    throw cfg::ConfigError(
        "key 'train.layers': needs at least 2 widths (input and classes), e.g. [784, 1024, "
        "10]");
  }
  for (std::size_t i = 0; i < p.layers.size(); ++i) {
    const double v = p.layers[i];
    if (v != static_cast<double>(static_cast<std::int64_t>(v))) {
      throw cfg::ConfigError(
          fmt::format("key 'train.layers': entry {} ({}) is not a whole number", i, v));
    }
    const bool first = i == 0;
    const bool last = i + 1 == p.layers.size();
    if (first && v != static_cast<double>(kInputWidth)) {
      throw cfg::ConfigError(
          fmt::format("key 'train.layers': the first width is {}, the datasets' inputs are {}", v,
                      kInputWidth));
    }
    if (last && v != static_cast<double>(kClassCount)) {
      throw cfg::ConfigError(
          fmt::format("key 'train.layers': the last width is {}, the datasets have {} classes", v,
                      kClassCount));
    }
    if (!first && !last && (v < 8 || v > 8192)) {
      throw cfg::ConfigError(
          fmt::format("key 'train.layers': hidden width {} (entry {}) is outside 8..8192", v, i));
    }
  }
}
}  // namespace

void bind_params(cfg::Schema& s, TrainParams& p) {
  s.add("train.tasks", &p.tasks, {},
        "Tasks trained in order, comma-separated (mnist, fashion_mnist)");
  s.add("train.epochs", &p.epochs, 0, 1000, 1, 16, "epochs",
        "Epochs per task, one value per task (the last value repeats for further tasks)",
        "paper-notes.md balanced setting (10 + 15)");
  s.add("train.hidden", &p.hidden, 8, 8192, "neurons",
        "Hidden layer width H of the 784-H-10 perceptron (used when train.layers is empty)",
        "paper-notes.md (H = 1024)");
  s.add("train.layers", &p.layers, 1, 65536, 0, 16, "neurons",
        "Layer widths of the perceptron, input first and classes last, e.g. [784, 4096, 4096, "
        "10] (3 weight layers); every hidden layer has batch norm and the clipped relu. Empty: "
        "[784, train.hidden, 10]. The first must be 784 and the last 10 (the datasets'); "
        "hidden widths 8..8192; train.hidden must then stay at its default");
  s.add("train.batch", &p.batch, 1, 4096, "samples", "Mini-batch size",
        "Laborieux et al. 2021 (batch 100)");
  s.add("train.train_samples", &p.train_samples, 0, 60000, "samples",
        "Training samples per task (the first N of the set); 0 = all");
  s.add("train.test_samples", &p.test_samples, 0, 10000, "samples",
        "Test samples per task used for evaluation (the first N); 0 = all");
  s.add("train.act_clip", &p.act_clip, 0.25, 64, "",
        "Upper clip of the hidden relu activation (the only hidden activation); also the "
        "full-scale of the layer-2 DAC input");
  s.add("train.bn_per_task", &p.bn_per_task,
        "Batch-norm affine parameters and running statistics kept per task and restored when "
        "testing that task (as in Laborieux et al. 2021); false shares them across tasks");
  s.add("train.bn_eps", &p.bn_eps, 1e-12, 1, "", "Batch-norm epsilon");
  s.add("train.bn_momentum", &p.bn_momentum, 0, 1, "", "Batch-norm running-statistics momentum");
  s.add("train.bn_lr", &p.bn_lr, 0, 1, "",
        "Adam learning rate of the batch-norm affine parameters (digital, float)");
  s.add("train.backward", &p.backward, {"digital", "tiles"},
        "Backward pass of layer 2: digital (host, exact quantized weights) or a transpose MVM "
        "on the tiles");
  s.add("train.mode", &p.mode, {"hardware", "functional"},
        "hardware: firmware drives the SystemC model through the bus; functional: the same "
        "network, rule and device effects as plain C++ without timing (--mode overrides)");
  s.add("train.device_effects", &p.device_effects,
        "false: ideal devices. Functional mode: the software baseline, weights are exactly the "
        "quantized levels (no tiles, noise, ADC or program-and-verify). Hardware mode: "
        "device.ideal tiles on the same meta_unit -> pv_ctrl path, one pulse per programmed "
        "device; DAC/ADC as configured");
  s.add("train.init_half_range", &p.init_half_range, 0, 16, "",
        "Hidden weights initialised uniform in +-this (weight units: the levels span [-1, 1])",
        "paper-notes.md (+-0.6)");
  s.add("train.eval_every_epoch", &p.eval_every_epoch,
        "Evaluate every task seen so far after every epoch (else after each task only)");
  s.add("train.checkpoint_every", &p.checkpoint_every, 0, 1000000000, "batches",
        "Write <out>/checkpoint.bin every this many batches (counted over the whole run; "
        "memplast train --resume continues from it); 0 = only when stopped by SIGINT/SIGTERM");
  s.add("train.checkpoint_minutes", &p.checkpoint_minutes, 0, 1e6, "minutes",
        "Also write the checkpoint at the first batch boundary after this many minutes of "
        "wall-clock time since the last one; 0 = off");
  s.add("train.refresh_every_epochs", &p.refresh_every_epochs, 0, 1000, "epochs",
        "Firmware refresh against relaxation: after every this many epochs (counted over the "
        "whole run, before that epoch's evaluation), every device in use (weights, and the "
        "reference cells with tile.mapping = reference_column) is re-verified at its current "
        "level through pv_ctrl (CMD_PUSH.FORCE): one verify read if still in its band, "
        "program-and-verify pulses otherwise (phase 'refresh'); 0 = off",
        "assumption: periodic re-verify, as P&V with wait times (Esmanhotto et al. 2022)");
  s.add_check([&p] {
    const auto tasks = task_list(p);
    if (tasks.empty()) throw cfg::ConfigError("key 'train.tasks': no task given");
    for (const auto& t : tasks) {
      if (t != "mnist" && t != "fashion_mnist") {
        throw cfg::ConfigError(
            fmt::format("key 'train.tasks': unknown task '{}' (expected mnist, fashion_mnist)", t));
      }
    }
    check_layers(p);
    for (double e : p.epochs) {
      if (e != static_cast<double>(static_cast<std::int64_t>(e))) {
        throw cfg::ConfigError("key 'train.epochs': epochs must be whole numbers");
      }
    }
  });
}

}  // namespace memplast::fw
