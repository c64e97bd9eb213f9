// Driver of one crossbar tile (registers and INPUT/OUTPUT windows of the `tile` block
// of sw/include/memplast_regs.h). Firmware code: reaches the hardware only via the HAL.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sw/hal/hal.hpp"

namespace memplast::drivers {

class TileDriver {
 public:
  // Tile `index` at `base` (Geometry::tile_addr). Reads the tile's geometry registers
  // (ROWS, COLS, BUF_VECTORS, CONFIG).
  TileDriver(hal::Hal& hal, unsigned index, std::uint64_t base);

  [[nodiscard]] unsigned index() const { return index_; }
  [[nodiscard]] std::uint64_t base() const { return base_; }
  [[nodiscard]] unsigned rows() const { return rows_; }
  [[nodiscard]] unsigned cols() const { return cols_; }
  [[nodiscard]] unsigned buf_vectors() const { return buf_vectors_; }

  // CONFIG.N_VECTORS and CONFIG.SIGNED (the ENCODING field is kept as the hardware
  // came up); written only when the value changes.
  void configure(unsigned n_vectors, bool signed_inputs);
  // The CONFIG value the driver last wrote (its cache of the register), for checkpoints.
  [[nodiscard]] std::uint32_t cached_config() const { return config_; }
  void set_cached_config(std::uint32_t v) { config_ = v; }
  // `n` floats into the INPUT window from element 0 (one block transfer).
  void write_input(const float* x, std::size_t n);
  // CMD.OP (MVM_FWD, MVM_TRANSPOSE, ...).
  void start(std::uint32_t op);
  // `n` floats from the OUTPUT window from element 0.
  void read_output(float* y, std::size_t n);
  // ADC_RANGE_FWD (transpose: ADC_RANGE_TR) in profiling steps; 0 = configured default.
  void set_adc_range(bool transpose, std::uint32_t steps);
  [[nodiscard]] std::uint32_t adc_range(bool transpose);
  // `n` counts from the PROFILE window from element 0 (one block transfer).
  void read_profile(std::uint32_t* counts, std::size_t n);
  [[nodiscard]] std::uint32_t status();
  [[nodiscard]] std::uint32_t irq_status();
  void enable_irq(std::uint32_t mask);  // IRQ_ENABLE bits
  void clear_irq(std::uint32_t bits);   // W1C of IRQ_STATUS
  // Throws std::runtime_error naming the tile and STATUS.ERR_CODE if STATUS.ERROR is set.
  void check_error();

 private:
  hal::Hal& hal_;
  unsigned index_;
  std::uint64_t base_;
  unsigned rows_{0};
  unsigned cols_{0};
  unsigned buf_vectors_{0};
  std::uint32_t config_{0};
};

}  // namespace memplast::drivers
