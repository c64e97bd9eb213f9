// Driver of the metaplasticity unit (`meta_unit` block of sw/include/memplast_regs.h):
// one flat weight space, element i of the GRAD/HIDDEN/LEVELS windows is weight i.
// Firmware code: reaches the hardware only via the HAL.
//
// Exercised by tb/sim/tb_system_forward.cpp and the hardware-mode regression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "sw/drivers/dma_driver.hpp"
#include "sw/hal/hal.hpp"

namespace memplast::drivers {

class MetaDriver {
 public:
  explicit MetaDriver(hal::Hal& hal);
  // The N_WEIGHTS value the driver last wrote (its cache of the register), checkpoints.
  [[nodiscard]] std::uint32_t cached_n_weights() const { return n_weights_; }
  void set_cached_n_weights(std::uint32_t n) { n_weights_ = n; }

  // Float32 gradient of weights [first, first + n) into the GRAD window: written by the
  // host (programmed I/O), or, with set_dma, copied into a host-memory buffer of this
  // range and moved by the DMA engine, started without waiting (run() waits for it).
  void write_grad(std::size_t first, const float* g, std::size_t n);
  // The unit's number formats (FORMAT register): levels L and the hidden weights'
  // fraction bits and width.
  struct Format {
    unsigned levels{0};
    unsigned hidden_frac_bits{0};
    unsigned hidden_bits{0};
  };
  [[nodiscard]] Format format();
  // The level table: value of level k, k < n <= FORMAT.N_LEVELS (LEVEL_VALUES window).
  void read_level_values(float* v, std::size_t n);
  void set_dma(DmaDriver* dma) { dma_ = dma; }
  // Hidden weights [first, first + n) into the HIDDEN window, converted to the unit's
  // fixed point with `frac_bits` fraction bits (FORMAT.HIDDEN_FRAC_BITS), rounded to
  // nearest (ties away from zero, as the unit rounds); the unit saturates and sets each
  // weight's level from it. Throws std::range_error for a value outside int32.
  void write_hidden(std::size_t first, const double* h, std::size_t n, unsigned frac_bits);
  // Hidden weights [first, first + n) from the HIDDEN window: h[i] = element * 2^-frac_bits
  // (exact in float for hidden_bits <= 24).
  void read_hidden(std::size_t first, float* h, std::size_t n, unsigned frac_bits);
  // Signed levels of weights [first, first + n) from the LEVELS window.
  void read_levels(std::size_t first, std::int32_t* lv, std::size_t n);
  // Run CMD.OP over weights 0 .. n_weights-1 and block until IRQ_STATUS.DONE (waits on
  // the host interrupt line `irq_line`, polling IRQ_STATUS after each wake-up).
  // Throws std::runtime_error when the unit reports STATUS.ERROR.
  void run(std::uint32_t op, std::size_t n_weights, unsigned irq_line);
  [[nodiscard]] std::uint32_t changes_count();
  [[nodiscard]] std::uint32_t cycles_last();

 private:
  hal::Hal& hal_;
  std::uint64_t base_;
  std::uint32_t n_weights_{0};
  DmaDriver* dma_{nullptr};
  std::vector<std::pair<std::size_t, std::uint64_t>> grad_bufs_;  // first -> host buffer
};

}  // namespace memplast::drivers
