// The hardware-mode runs: elaborate the System, run the firmware (fw::Trainer over
// drivers::HalAccelerator) on the host, sc_start once, and collect the statistics.
// Training, and inference on a trained state. One call per process (SystemC
// elaborates once).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/energy.hpp"
#include "config/config.hpp"
#include "data/dataset.hpp"
#include "fw/accelerator.hpp"
#include "fw/trainer.hpp"
#include "pv/pv_ctrl.hpp"

namespace memplast::system {

struct HardwareRunResult {
  fw::TrainResult train;
  fw::AccelStats stats;
  double simulated_time_s{0};  // sc_time_stamp() at the end
  std::uint64_t memory_hidden_bits{0};
  std::uint64_t memory_optimizer_bits{0};
  std::uint64_t memory_stored_bits{0};
  // Trained state for `memplast infer`: the hidden weights of each layer (in x out,
  // row-major) the firmware read back through meta_unit's HIDDEN window at the end of
  // the run (phase "readback"), and the per-task batch norms.
  std::vector<std::vector<float>> hidden;
  std::vector<std::vector<fw::BatchNorm>> batch_norms;
  // The run's energy and time ledger (energy.csv's rows, the phase times), closed at
  // simulated_time_s.
  EnergyLedger ledger;
};

// out_dir: the run folder; with trace.enable the run writes out_dir/trace.json there,
// with trace.vcd out_dir/waves.vcd (nothing is traced when out_dir is empty).
struct HardwareInferResult {
  std::vector<std::pair<std::size_t, double>> accuracy;  // (task index, test accuracy)
  double programmed_s{0};      // simulated time when every device was programmed
  double simulated_time_s{0};  // at the end
  double energy_total{0};      // joules, programming and evaluation
  std::map<std::string, double> energy_by_component;
  pv::PvCtrlStats pv_stats;
};

// Checkpoints of a hardware run (memplast train --resume): `boundary`, if set, replaces
// the plain boundary callback and gets a function that writes the whole state (trainer,
// every block, the drivers' counters); `restore`, if set, holds such a state (StateIO
// bytes, `origin` names their file): the firmware restores it after its set-up, waiting
// until the stored simulated time, and the trainer continues from its position.
struct Checkpointing {
  fw::CheckpointBoundaryFn boundary;
  const std::string* restore{nullptr};
  std::string origin;
};

HardwareRunResult run_hardware_training(const Config& cfg, std::vector<data::TaskData> tasks,
                                        std::vector<std::string> names,
                                        const fw::Trainer::ProgressFn& progress,
                                        const fw::Trainer::BoundaryFn& boundary = {},
                                        const std::filesystem::path& out_dir = {},
                                        const Checkpointing& checkpointing = {});

// `memplast infer` on the hardware model: elaborates the System, and the firmware
// loads `hidden` (per layer, in x out) into meta_unit's HIDDEN window, programs every
// device from the LEVELS window through pv_ctrl (MetaPvUpdatePath::init), then
// evaluates the test sets of the tasks in `evaluate` (indices into `tasks`) on the
// tiles with each task's batch norms. One call per process.
HardwareInferResult run_hardware_inference(const Config& cfg,
                                           const std::vector<std::vector<float>>& hidden,
                                           std::vector<std::vector<fw::BatchNorm>> batch_norms,
                                           std::vector<data::TaskData> tasks,
                                           std::vector<std::string> names,
                                           const std::vector<std::size_t>& evaluate);

}  // namespace memplast::system
