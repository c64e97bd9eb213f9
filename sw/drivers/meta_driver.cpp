#include "sw/drivers/meta_driver.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "sw/include/memplast_regs.h"

namespace memplast::drivers {

MetaDriver::MetaDriver(hal::Hal& hal) : hal_(hal), base_(MP_META_UNIT_ADDR(0)) {
  hal_.write32(base_ + MP_META_UNIT_CONFIG, MP_META_UNIT_CONFIG_GRAD_FMT_FLOAT32);
  hal_.write32(base_ + MP_META_UNIT_IRQ_ENABLE,
               MP_META_UNIT_IRQ_ENABLE_DONE_MASK | MP_META_UNIT_IRQ_ENABLE_ERROR_MASK);
}

void MetaDriver::write_grad(std::size_t first, const float* g, std::size_t n) {
  if (dma_ == nullptr) {
    hal_.write_block(base_ + MP_META_UNIT_GRAD_OFFSET + first * 4, g, n * 4);
    return;
  }
  std::uint64_t buf = 0;
  for (const auto& [f, a] : grad_bufs_) {
    if (f == first) buf = a;
  }
  if (buf == 0) {
    buf = dma_->alloc(n * 4);
    grad_bufs_.emplace_back(first, buf);
  }
  std::copy_n(g, n, dma_->ptr<float>(buf, n));
  constexpr std::size_t kPerDesc = 1U << 18U;
  std::vector<DmaDriver::Desc> chain;
  for (std::size_t i = 0; i < n; i += kPerDesc) {
    DmaDriver::Desc d;
    d.src = static_cast<std::uint32_t>(buf + i * 4);
    d.dst = static_cast<std::uint32_t>(base_ + MP_META_UNIT_GRAD_OFFSET + (first + i) * 4);
    d.count = static_cast<std::uint32_t>(std::min(kPerDesc, n - i));
    d.format = DmaDriver::kF32;
    chain.push_back(d);
  }
  dma_->start(chain);
}

MetaDriver::Format MetaDriver::format() {
  const std::uint32_t f = hal_.read32(base_ + MP_META_UNIT_FORMAT);
  Format r;
  r.levels = (f & MP_META_UNIT_FORMAT_N_LEVELS_MASK) >> MP_META_UNIT_FORMAT_N_LEVELS_SHIFT;
  r.hidden_frac_bits =
      (f & MP_META_UNIT_FORMAT_HIDDEN_FRAC_BITS_MASK) >> MP_META_UNIT_FORMAT_HIDDEN_FRAC_BITS_SHIFT;
  r.hidden_bits =
      (f & MP_META_UNIT_FORMAT_HIDDEN_BITS_MASK) >> MP_META_UNIT_FORMAT_HIDDEN_BITS_SHIFT;
  return r;
}

void MetaDriver::read_level_values(float* v, std::size_t n) {
  hal_.read_block(base_ + MP_META_UNIT_LEVEL_VALUES_OFFSET, v, n * 4);
}

void MetaDriver::read_hidden(std::size_t first, float* h, std::size_t n, unsigned frac_bits) {
  std::vector<std::int32_t> raw(n);
  hal_.read_block(base_ + MP_META_UNIT_HIDDEN_OFFSET + first * 4, raw.data(), n * 4);
  for (std::size_t i = 0; i < n; ++i)
    h[i] =
        static_cast<float>(std::ldexp(static_cast<double>(raw[i]), -static_cast<int>(frac_bits)));
}

void MetaDriver::write_hidden(std::size_t first, const double* h, std::size_t n,
                              unsigned frac_bits) {
  std::vector<std::int32_t> raw(n);
  const double scale = std::ldexp(1.0, static_cast<int>(frac_bits));
  for (std::size_t i = 0; i < n; ++i) {
    const double v = std::round(h[i] * scale);
    if (!(v >= -2147483648.0 && v <= 2147483647.0)) {
      throw std::range_error("meta_unit HIDDEN[" + std::to_string(first + i) + "]: hidden weight " +
                             std::to_string(h[i]) + " does not fit the int32 fixed point");
    }
    raw[i] = static_cast<std::int32_t>(v);
  }
  hal_.write_block(base_ + MP_META_UNIT_HIDDEN_OFFSET + first * 4, raw.data(), n * 4);
}

void MetaDriver::read_levels(std::size_t first, std::int32_t* lv, std::size_t n) {
  hal_.read_block(base_ + MP_META_UNIT_LEVELS_OFFSET + first * 4, lv, n * 4);
}

void MetaDriver::run(std::uint32_t op, std::size_t n_weights, unsigned irq_line) {
  if (dma_ != nullptr) dma_->wait_idle();  // the gradients are in the GRAD window
  const auto n = static_cast<std::uint32_t>(n_weights);
  if (n != n_weights_) {
    hal_.write32(base_ + MP_META_UNIT_N_WEIGHTS, n);
    n_weights_ = n;
  }
  hal_.write32(base_ + MP_META_UNIT_CMD,
               (op << MP_META_UNIT_CMD_OP_SHIFT) & MP_META_UNIT_CMD_OP_MASK);
  for (;;) {
    const std::uint32_t irq = hal_.read32(base_ + MP_META_UNIT_IRQ_STATUS);
    if ((irq & MP_META_UNIT_IRQ_STATUS_ERROR_MASK) != 0) {
      hal_.write32(base_ + MP_META_UNIT_IRQ_STATUS, irq);
      throw std::runtime_error("meta_unit: command " + std::to_string(op) + " rejected (STATUS " +
                               std::to_string(hal_.read32(base_ + MP_META_UNIT_STATUS)) + ")");
    }
    if ((irq & MP_META_UNIT_IRQ_STATUS_DONE_MASK) != 0) {
      hal_.write32(base_ + MP_META_UNIT_IRQ_STATUS, MP_META_UNIT_IRQ_STATUS_DONE_MASK);
      return;
    }
    hal_.wait_irq(1U << irq_line);
  }
}

std::uint32_t MetaDriver::changes_count() {
  return hal_.read32(base_ + MP_META_UNIT_CHANGES_COUNT);
}
std::uint32_t MetaDriver::cycles_last() { return hal_.read32(base_ + MP_META_UNIT_CYCLES_LAST); }

}  // namespace memplast::drivers
