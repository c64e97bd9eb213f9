// A trained state on disk, written by `memplast train` into <out>/state/ and read by
// `memplast infer`:
//   state.json          format version, task names, layer shapes, the resolved
//                       configuration, and the per-task batch norms
//   hidden_layer<l>.f32 the hidden weights of layer l, float32 little-endian, in x out
// Every file is written atomically.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fw/trainer.hpp"

namespace memplast::cli {

struct TrainedState {
  nlohmann::json config;  // resolved configuration of the training run
  std::vector<std::string> tasks;
  std::vector<fw::LayerShape> shapes;
  std::vector<std::vector<float>> hidden;
  std::vector<std::vector<fw::BatchNorm>> batch_norms;
};

void save_state(const std::filesystem::path& dir, const TrainedState& s);
// Throws std::runtime_error naming the file and what is wrong.
TrainedState load_state(const std::filesystem::path& dir);

}  // namespace memplast::cli
