// Parameters of the training experiment run by the firmware (keys train.*).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/schema.hpp"

namespace memplast::fw {

struct TrainParams {
  std::string tasks{"mnist,fashion_mnist"};
  std::vector<double> epochs{10, 15};
  std::int64_t hidden{1024};
  // Layer widths, input first, classes last (e.g. 784, 4096, 4096, 10); empty: 784,
  // hidden, 10. layer_widths() resolves it.
  std::vector<double> layers{};
  std::int64_t batch{100};
  std::int64_t train_samples{0};  // per task; 0 = the whole training set
  std::int64_t test_samples{0};   // per task; 0 = the whole test set
  double act_clip{4.0};
  bool bn_per_task{true};
  double bn_eps{1e-5};
  double bn_momentum{0.1};
  double bn_lr{0.005};
  std::string backward{"digital"};
  std::string mode{"hardware"};
  bool device_effects{true};
  double init_half_range{0.6};
  bool eval_every_epoch{true};
  std::int64_t checkpoint_every{0};  // batches; 0 = no periodic checkpoint
  double checkpoint_minutes{0};      // wall-clock minutes; 0 = off
  // Firmware refresh against relaxation: every this many epochs (counted over the run),
  // every device in use re-verified at its level; 0 = off.
  std::int64_t refresh_every_epochs{0};
};

void bind_params(cfg::Schema& s, TrainParams& p);

// The network's layer widths, input first, classes last: train.layers, or 784, train.hidden,
// 10 when train.layers is empty (validated by the schema's check).
std::vector<std::size_t> layer_widths(const TrainParams& p);

// The input width (MNIST and Fashion-MNIST pixels) and the class count the datasets fix.
inline constexpr std::size_t kInputWidth = 784;
inline constexpr std::size_t kClassCount = 10;

// "mnist,fashion_mnist" -> {"mnist", "fashion_mnist"}
std::vector<std::string> task_list(const TrainParams& p);

}  // namespace memplast::fw
