#include "sw/drivers/tile_driver.hpp"

#include <stdexcept>
#include <string>

#include "sw/include/memplast_regs.h"

namespace memplast::drivers {

TileDriver::TileDriver(hal::Hal& hal, unsigned index, std::uint64_t base)
    : hal_(hal), index_(index), base_(base) {
  rows_ = hal_.read32(base_ + MP_TILE_ROWS);
  cols_ = hal_.read32(base_ + MP_TILE_COLS);
  buf_vectors_ = hal_.read32(base_ + MP_TILE_BUF_VECTORS);
  config_ = hal_.read32(base_ + MP_TILE_CONFIG);
  if (rows_ == 0 || cols_ == 0 || buf_vectors_ == 0) {
    throw std::runtime_error("tile" + std::to_string(index) + ": ROWS/COLS/BUF_VECTORS read as 0");
  }
}

void TileDriver::configure(unsigned n_vectors, bool signed_inputs) {
  std::uint32_t v = config_ & ~(MP_TILE_CONFIG_N_VECTORS_MASK | MP_TILE_CONFIG_SIGNED_MASK);
  v |= (static_cast<std::uint32_t>(n_vectors) << MP_TILE_CONFIG_N_VECTORS_SHIFT) &
       MP_TILE_CONFIG_N_VECTORS_MASK;
  if (signed_inputs) v |= MP_TILE_CONFIG_SIGNED_MASK;
  if (v == config_) return;
  hal_.write32(base_ + MP_TILE_CONFIG, v);
  config_ = v;
}

void TileDriver::write_input(const float* x, std::size_t n) {
  hal_.write_block(base_ + MP_TILE_INPUT_OFFSET, x, n * sizeof(float));
}

void TileDriver::start(std::uint32_t op) {
  hal_.write32(base_ + MP_TILE_CMD, (op << MP_TILE_CMD_OP_SHIFT) & MP_TILE_CMD_OP_MASK);
}

void TileDriver::read_output(float* y, std::size_t n) {
  hal_.read_block(base_ + MP_TILE_OUTPUT_OFFSET, y, n * sizeof(float));
}

void TileDriver::set_adc_range(bool transpose, std::uint32_t steps) {
  hal_.write32(base_ + (transpose ? MP_TILE_ADC_RANGE_TR : MP_TILE_ADC_RANGE_FWD), steps);
}

std::uint32_t TileDriver::adc_range(bool transpose) {
  return hal_.read32(base_ + (transpose ? MP_TILE_ADC_RANGE_TR : MP_TILE_ADC_RANGE_FWD));
}

void TileDriver::read_profile(std::uint32_t* counts, std::size_t n) {
  hal_.read_block(base_ + MP_TILE_PROFILE_OFFSET, counts, n * sizeof(std::uint32_t));
}

std::uint32_t TileDriver::status() { return hal_.read32(base_ + MP_TILE_STATUS); }
std::uint32_t TileDriver::irq_status() { return hal_.read32(base_ + MP_TILE_IRQ_STATUS); }
void TileDriver::enable_irq(std::uint32_t mask) { hal_.write32(base_ + MP_TILE_IRQ_ENABLE, mask); }
void TileDriver::clear_irq(std::uint32_t bits) { hal_.write32(base_ + MP_TILE_IRQ_STATUS, bits); }

void TileDriver::check_error() {
  const std::uint32_t s = status();
  if ((s & MP_TILE_STATUS_ERROR_MASK) == 0) return;
  const std::uint32_t code = (s & MP_TILE_STATUS_ERR_CODE_MASK) >> MP_TILE_STATUS_ERR_CODE_SHIFT;
  throw std::runtime_error("tile" + std::to_string(index_) + ": STATUS.ERROR set, ERR_CODE " +
                           std::to_string(code));
}

}  // namespace memplast::drivers
