// MetaPvUpdatePath: the weight-update flow through the meta_unit and pv_ctrl drivers
// (the target flow of the hardware mode). The two layers share the unit's flat weight
// space: layer 0's weights are elements [0, n0), layer 1's [n0, n0 + n1), row-major.
//   init        : with layout.hidden given (a trained state, memplast infer), write it
//                 into the HIDDEN window first (which sets LEVELS); read the LEVELS window
//                 and push one P&V command per weight to pv_ctrl (the initial write of
//                 every device), wait until pv_ctrl is idle;
//   accumulate  : the layer's gradient into its part of the GRAD window (block write);
//   update      : CMD ACCUMULATE then STEP over all weights (BATCH stays 1: one
//                 accumulate of the batch-mean gradient per step, as the functional
//                 engine's mean over one accumulate call); meta_unit pushes each level
//                 change to pv_ctrl's queue itself; the firmware waits for DONE, then for
//                 pv_ctrl idle; returns CHANGES_COUNT;
//   read_weights: the LEVELS window of the layer, mapped through the level values;
//   new_task    : CMD NEW_TASK.
// Firmware code: HAL and register header only.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "fw/accelerator.hpp"
#include "sw/drivers/meta_driver.hpp"
#include "sw/drivers/pv_driver.hpp"
#include "sw/drivers/update_path.hpp"
#include "sw/hal/hal.hpp"

namespace memplast::drivers {

struct MetaPvLayout {
  std::array<fw::LayerShape, 2> shapes{};
  unsigned tile_rows{0};
  unsigned tile_cols{0};
  std::vector<float> level_values;  // value of level index k (the quantizer's table)
  // Hidden weights to load before the initial programming (in x out per layer), or
  // empty: keep the unit's. Written in fixed point with hidden_frac_bits fraction bits.
  std::array<std::vector<float>, 2> hidden{};
  unsigned hidden_frac_bits{0};
  // Storage the unit holds, for the memory report (computed from the configuration).
  std::uint64_t hidden_bits{0};
  std::uint64_t optimizer_bits{0};
  std::uint64_t stored_bits{0};
};

class MetaPvUpdatePath : public UpdatePath {
 public:
  MetaPvUpdatePath(hal::Hal& hal, MetaPvLayout layout, unsigned irq_line);

  void init() override;
  void read_weights(int layer, float* w) override;
  void accumulate(int layer, const float* grad) override;
  std::size_t update() override;
  void new_task() override;
  [[nodiscard]] std::uint64_t memory_hidden_bits() const override { return L_.hidden_bits; }
  [[nodiscard]] std::uint64_t memory_optimizer_bits() const override { return L_.optimizer_bits; }
  [[nodiscard]] std::uint64_t memory_stored_bits() const override { return L_.stored_bits; }
  // Checkpoints: the meta_unit driver's cached N_WEIGHTS.
  [[nodiscard]] std::uint32_t cached_n_weights() const { return meta_.cached_n_weights(); }
  void set_cached_n_weights(std::uint32_t n) { meta_.set_cached_n_weights(n); }
  // host.data_movement = dma: gradients go to meta_unit by DMA (MetaDriver::set_dma).
  void set_dma(DmaDriver* dma) { meta_.set_dma(dma); }

 private:
  [[nodiscard]] std::size_t count(int layer) const;
  [[nodiscard]] std::size_t first(int layer) const { return layer == 0 ? 0 : count(0); }

  hal::Hal& hal_;
  MetaPvLayout L_;
  unsigned irq_line_;
  MetaDriver meta_;
  PvDriver pv_;
  std::array<bool, 2> grad_written_{};
  std::vector<std::int32_t> levels_;
};

}  // namespace memplast::drivers
