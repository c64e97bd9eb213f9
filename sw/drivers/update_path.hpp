// How HalAccelerator gets its weights updated: the gradient hand-off, the metaplastic
// step and the programming of changed levels. The implementation is MetaPvUpdatePath
// (meta_pv_update.hpp): the meta_unit and pv_ctrl drivers, through the HAL, with or
// without device effects (ideal devices are programmed by the same path, one pulse per
// device). The interface is the seam a different update flow would plug into.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memplast::drivers {

class UpdatePath {
 public:
  virtual ~UpdatePath() = default;
  // Program the initial weights into the tiles (called once, from the firmware).
  virtual void init() = 0;
  virtual void read_weights(int layer, float* w) = 0;
  virtual void accumulate(int layer, const float* grad) = 0;
  virtual std::size_t update() = 0;
  virtual void new_task() = 0;
  // fw::Accelerator::refresh: re-verify every device in use; returns the pulses applied.
  virtual std::uint64_t refresh() { return 0; }
  [[nodiscard]] virtual std::uint64_t memory_hidden_bits() const = 0;
  [[nodiscard]] virtual std::uint64_t memory_optimizer_bits() const = 0;
  [[nodiscard]] virtual std::uint64_t memory_stored_bits() const = 0;
};

}  // namespace memplast::drivers
