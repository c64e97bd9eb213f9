// The hardware-mode training run: elaborates the System, runs the training firmware
// (fw::Trainer over drivers::HalAccelerator) on the host, sc_start once, and collects
// the statistics. One call per process (SystemC elaborates once).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/dataset.hpp"
#include "fw/accelerator.hpp"
#include "fw/trainer.hpp"

namespace memplast::system {

struct HardwareRunResult {
  fw::TrainResult train;
  fw::AccelStats stats;
  double simulated_time_s{0};  // sc_time_stamp() at the end
  std::uint64_t memory_hidden_bits{0};
  std::uint64_t memory_optimizer_bits{0};
  std::uint64_t memory_stored_bits{0};
  // Trained state for `memplast infer`: the hidden weights of each layer (in x out,
  // row-major) read from meta_unit's SRAM after the run, and the per-task batch norms.
  std::vector<std::vector<float>> hidden;
  std::vector<std::array<fw::BatchNorm, 2>> batch_norms;
};

// out_dir: the run folder; with trace.enable the run writes out_dir/trace.json there,
// with trace.vcd out_dir/waves.vcd (nothing is traced when out_dir is empty).
HardwareRunResult run_hardware_training(const Config& cfg, std::vector<data::TaskData> tasks,
                                        std::vector<std::string> names,
                                        const fw::Trainer::ProgressFn& progress,
                                        const fw::Trainer::BoundaryFn& boundary = {},
                                        const std::filesystem::path& out_dir = {});

}  // namespace memplast::system
