// Parameters of the training experiment run by the firmware (keys train.*).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/schema.hpp"

namespace memplast::fw {

struct TrainParams {
  std::string tasks{"mnist,fashion_mnist"};
  std::vector<double> epochs{10, 15};
  std::int64_t hidden{1024};
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

// "mnist,fashion_mnist" -> {"mnist", "fashion_mnist"}
std::vector<std::string> task_list(const TrainParams& p);

}  // namespace memplast::fw
