#include "sw/drivers/dma_driver.hpp"

#include <stdexcept>
#include <string>

#include "sw/include/memplast_regs.h"

namespace memplast::drivers {

const std::uint32_t DmaDriver::kF32 =
    DmaDriver::format(MP_DMA_FORMAT_SRC_FMT_F32, MP_DMA_FORMAT_DST_FMT_F32);
const std::uint32_t DmaDriver::kU32 =
    DmaDriver::format(MP_DMA_FORMAT_SRC_FMT_U32, MP_DMA_FORMAT_DST_FMT_U32);

std::uint32_t DmaDriver::format(std::uint32_t src_fmt, std::uint32_t dst_fmt,
                                std::uint32_t dac_bits, std::uint32_t fix_frac) {
  return ((src_fmt << MP_DMA_FORMAT_SRC_FMT_SHIFT) & MP_DMA_FORMAT_SRC_FMT_MASK) |
         ((dst_fmt << MP_DMA_FORMAT_DST_FMT_SHIFT) & MP_DMA_FORMAT_DST_FMT_MASK) |
         ((dac_bits << MP_DMA_FORMAT_DAC_BITS_SHIFT) & MP_DMA_FORMAT_DAC_BITS_MASK) |
         ((fix_frac << MP_DMA_FORMAT_FIX_FRAC_SHIFT) & MP_DMA_FORMAT_FIX_FRAC_MASK);
}

DmaDriver::DmaDriver(hal::Hal& hal, unsigned irq_line, std::size_t max_chain)
    : hal_(hal),
      irq_line_(irq_line),
      max_chain_(max_chain),
      next_free_(MP_HOST_MEM_BASE),
      end_(MP_HOST_MEM_BASE + MP_HOST_MEM_SIZE) {
  // Two chain areas: a chain may be written while the previous one (held pending or
  // running) is still read by the engine.
  chain_area_[0] = alloc(max_chain_ * sizeof(Desc));
  chain_area_[1] = alloc(max_chain_ * sizeof(Desc));
  hal_.write32(MP_DMA_BASE + MP_DMA_IRQ_STATUS,
               MP_DMA_IRQ_STATUS_DONE_MASK | MP_DMA_IRQ_STATUS_ERROR_MASK);
  hal_.write32(MP_DMA_BASE + MP_DMA_IRQ_ENABLE,
               MP_DMA_IRQ_ENABLE_DONE_MASK | MP_DMA_IRQ_ENABLE_ERROR_MASK);
}

std::uint64_t DmaDriver::alloc(std::size_t bytes) {
  const std::uint64_t a = (next_free_ + 63U) & ~std::uint64_t{63};
  // host_memory() checks against the backed size, which may be below the map's window.
  if (bytes == 0 || a + bytes > end_) {
    throw std::runtime_error("host memory: no room for " + std::to_string(bytes) + " bytes");
  }
  hal_.host_memory(a, bytes);  // throws if beyond the backed memory (host_mem.size_MiB)
  next_free_ = a + bytes;
  return a;
}

std::uint64_t DmaDriver::constant(std::uint32_t value) {
  for (const auto& [v, a] : constants_) {
    if (v == value) return a;
  }
  const std::uint64_t a = alloc(4);
  *ptr<std::uint32_t>(a, 1) = value;
  constants_.emplace_back(value, a);
  return a;
}

void DmaDriver::check_error() {
  const std::uint32_t s = hal_.read32(MP_DMA_BASE + MP_DMA_STATUS);
  if ((s & MP_DMA_STATUS_ERROR_MASK) == 0) return;
  const std::uint32_t code = (s & MP_DMA_STATUS_ERR_CODE_MASK) >> MP_DMA_STATUS_ERR_CODE_SHIFT;
  const std::uint32_t addr = hal_.read32(MP_DMA_BASE + MP_DMA_ERR_ADDR);
  hal_.write32(MP_DMA_BASE + MP_DMA_CTRL, MP_DMA_CTRL_CLEAR_ERROR_MASK);
  throw std::runtime_error("dma: STATUS.ERROR, ERR_CODE " + std::to_string(code) + " at " +
                           hal::hex_address(addr));
}

void DmaDriver::wait_event() {
  const std::uint32_t enable = hal_.read32(MP_SYSCTL_BASE + MP_SYSCTL_IRQ_ENABLE);
  hal_.write32(MP_SYSCTL_BASE + MP_SYSCTL_IRQ_ENABLE, MP_SYSCTL_IRQ_ENABLE_DMA_MASK);
  hal_.wait_irq(1U << irq_line_);
  hal_.write32(MP_SYSCTL_BASE + MP_SYSCTL_IRQ_ENABLE, enable);
  const std::uint32_t irq = hal_.read32(MP_DMA_BASE + MP_DMA_IRQ_STATUS);
  hal_.write32(MP_DMA_BASE + MP_DMA_IRQ_STATUS, irq);
  if ((irq & MP_DMA_IRQ_STATUS_ERROR_MASK) != 0) check_error();
}

void DmaDriver::start(const std::vector<Desc>& chain) {
  if (chain.empty() || chain.size() > max_chain_)
    throw std::invalid_argument("dma: chain of " + std::to_string(chain.size()) + " descriptors");
  // At most one chain running and one held: wait for the running one to end first.
  while ((hal_.read32(MP_DMA_BASE + MP_DMA_STATUS) & MP_DMA_STATUS_PENDING_MASK) != 0) wait_event();
  const std::uint64_t area = chain_area_[chain_slot_];
  chain_slot_ ^= 1U;
  Desc* mem = ptr<Desc>(area, chain.size());
  for (std::size_t i = 1; i < chain.size(); ++i) {
    mem[i] = chain[i];
    mem[i].next =
        i + 1 < chain.size() ? static_cast<std::uint32_t>(area + (i + 1) * sizeof(Desc)) : 0;
  }
  const Desc& d = chain[0];
  const std::uint64_t b = MP_DMA_BASE;
  hal_.write32(b + MP_DMA_SRC, d.src);
  hal_.write32(b + MP_DMA_DST, d.dst);
  hal_.write32(b + MP_DMA_COUNT, d.count);
  hal_.write32(b + MP_DMA_ROWS, d.rows);
  hal_.write32(b + MP_DMA_SRC_STRIDE, d.src_stride);
  hal_.write32(b + MP_DMA_DST_STRIDE, d.dst_stride);
  hal_.write32(b + MP_DMA_FORMAT, d.format);
  hal_.write32(b + MP_DMA_NEXT,
               chain.size() > 1 ? static_cast<std::uint32_t>(area + sizeof(Desc)) : 0U);
  hal_.write32(b + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
  ++started_;
  check_error();
}

void DmaDriver::wait_idle() {
  for (;;) {
    const std::uint32_t s = hal_.read32(MP_DMA_BASE + MP_DMA_STATUS);
    if ((s & MP_DMA_STATUS_ERROR_MASK) != 0) check_error();
    if ((s & (MP_DMA_STATUS_BUSY_MASK | MP_DMA_STATUS_PENDING_MASK)) == 0) return;
    wait_event();
  }
}

}  // namespace memplast::drivers
