#include "sw/drivers/dma_driver.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

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

void DmaDriver::check_error() { check_error(hal_.read32(MP_DMA_BASE + MP_DMA_STATUS)); }

void DmaDriver::retire(std::uint32_t status) {
  const std::size_t live = ((status & MP_DMA_STATUS_BUSY_MASK) != 0 ? 1U : 0U) +
                           ((status & MP_DMA_STATUS_PENDING_MASK) != 0 ? 1U : 0U);
  if (flight_.size() > live)
    flight_.erase(flight_.begin(), flight_.end() - static_cast<std::ptrdiff_t>(live));
}

void DmaDriver::check_error(std::uint32_t s) {
  if ((s & MP_DMA_STATUS_ERROR_MASK) == 0) {
    retire(s);
    return;
  }
  const std::uint32_t code = (s & MP_DMA_STATUS_ERR_CODE_MASK) >> MP_DMA_STATUS_ERR_CODE_SHIFT;
  if (recover_ &&
      (code == MP_DMA_STATUS_ERR_CODE_SRC_ERROR || code == MP_DMA_STATUS_ERR_CODE_DST_ERROR ||
       code == MP_DMA_STATUS_ERR_CODE_DESC_ERROR)) {
    recover(s, code);
    return;
  }
  const std::uint32_t addr = hal_.read32(MP_DMA_BASE + MP_DMA_ERR_ADDR);
  hal_.write32(MP_DMA_BASE + MP_DMA_CTRL, MP_DMA_CTRL_CLEAR_ERROR_MASK);
  throw std::runtime_error("dma: STATUS.ERROR, ERR_CODE " + std::to_string(code) + " at " +
                           hal::hex_address(addr));
}

void DmaDriver::recover(std::uint32_t s, std::uint32_t code) {
  // The engine halted on the error: the failed chain is the one before a held start, or
  // the last one started.
  const std::size_t held = (s & MP_DMA_STATUS_PENDING_MASK) != 0 ? 1U : 0U;
  const std::uint32_t addr = hal_.read32(MP_DMA_BASE + MP_DMA_ERR_ADDR);
  const std::uint32_t done = hal_.read32(MP_DMA_BASE + MP_DMA_DESC_DONE);
  if (flight_.size() < held + 1 || done >= flight_[flight_.size() - held - 1].descs.size()) {
    throw std::runtime_error("dma: STATUS.ERROR, ERR_CODE " + std::to_string(code) + " at " +
                             hal::hex_address(addr) + " (DESC_DONE " + std::to_string(done) +
                             ") in no chain this driver started");
  }
  const std::size_t fi = flight_.size() - held - 1;
  Flight rest;
  rest.descs.assign(flight_[fi].descs.begin() + done, flight_[fi].descs.end());
  rest.attempts = flight_[fi].attempts + 1;
  flight_.erase(flight_.begin(), flight_.begin() + static_cast<std::ptrdiff_t>(fi) + 1);
  ++rec_.errors;
  // Clearing the error releases a held start.
  hal_.write32(MP_DMA_BASE + MP_DMA_CTRL, MP_DMA_CTRL_CLEAR_ERROR_MASK);
  if (rest.attempts <= retry_limit_) {
    ++rec_.restarts;
    start_flight(std::move(rest));
  } else {
    ++rec_.pio_transfers;
    pio(rest.descs);
  }
}

void DmaDriver::pio(const std::vector<Desc>& descs) {
  std::vector<unsigned char> buf;
  const auto in_host = [](std::uint64_t a, std::size_t n) {
    return a >= MP_HOST_MEM_BASE && a + n <= MP_HOST_MEM_BASE + MP_HOST_MEM_SIZE;
  };
  for (const auto& d : descs) {
    const std::uint32_t sf = (d.format & MP_DMA_FORMAT_SRC_FMT_MASK) >> MP_DMA_FORMAT_SRC_FMT_SHIFT;
    const std::uint32_t df = (d.format & MP_DMA_FORMAT_DST_FMT_MASK) >> MP_DMA_FORMAT_DST_FMT_SHIFT;
    const bool copy = (sf == MP_DMA_FORMAT_SRC_FMT_F32 && df == MP_DMA_FORMAT_DST_FMT_F32) ||
                      (sf == MP_DMA_FORMAT_SRC_FMT_U32 && df == MP_DMA_FORMAT_DST_FMT_U32);
    if (!copy) {
      throw std::runtime_error("dma: programmed-I/O fallback: FORMAT " +
                               hal::hex_address(d.format) +
                               " is not a copy (F32 -> F32, U32 -> U32)");
    }
    const std::size_t bytes = std::size_t{d.count} * 4U;
    const std::uint32_t rows = d.rows == 0 ? 1U : d.rows;
    buf.resize(bytes);
    for (std::uint32_t r = 0; r < rows; ++r) {
      const std::uint64_t src = std::uint64_t{d.src} + std::uint64_t{r} * d.src_stride;
      const std::uint64_t dst = std::uint64_t{d.dst} + std::uint64_t{r} * d.dst_stride;
      if (in_host(src, bytes)) {
        std::memcpy(buf.data(), hal_.host_memory(src, bytes), bytes);
      } else {
        hal_.read_block(src, buf.data(), bytes);
      }
      if (in_host(dst, bytes)) {
        std::memcpy(hal_.host_memory(dst, bytes), buf.data(), bytes);
      } else {
        hal_.write_block(dst, buf.data(), bytes);
      }
      rec_.pio_bytes += bytes;
    }
  }
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
  Flight f;
  f.descs = chain;
  start_flight(std::move(f));
}

void DmaDriver::run(const std::vector<Desc>& descs) {
  if (descs.size() <= max_chain_) {
    start(descs);
    wait_idle();
    return;
  }
  for (std::size_t i = 0; i < descs.size(); i += max_chain_) {
    const auto first = descs.begin() + static_cast<std::ptrdiff_t>(i);
    const auto n = static_cast<std::ptrdiff_t>(std::min(max_chain_, descs.size() - i));
    start(std::vector<Desc>(first, first + n));
    wait_idle();
  }
}

void DmaDriver::start_flight(Flight f) {
  // At most one chain running and one held: wait for the running one to end first.
  for (;;) {
    const std::uint32_t st = hal_.read32(MP_DMA_BASE + MP_DMA_STATUS);
    if ((st & MP_DMA_STATUS_ERROR_MASK) != 0) {
      check_error(st);
      continue;
    }
    retire(st);
    if ((st & MP_DMA_STATUS_PENDING_MASK) == 0) break;
    wait_event();
  }
  flight_.push_back(std::move(f));
  const std::vector<Desc>& chain = flight_.back().descs;
  const std::uint64_t area = chain_area_[chain_slot_];
  chain_slot_ ^= 1U;
  Desc* mem = ptr<Desc>(area, chain.size());
  for (std::size_t i = 1; i < chain.size(); ++i) {
    mem[i] = chain[i];
    mem[i].next =
        i + 1 < chain.size() ? static_cast<std::uint32_t>(area + (i + 1) * sizeof(Desc)) : 0;
  }
  Desc d = chain[0];
  d.next = chain.size() > 1 ? static_cast<std::uint32_t>(area + sizeof(Desc)) : 0U;
  write_registers(hal_, d);
  hal_.write32(MP_DMA_BASE + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
  ++started_;
  check_error();
}

void DmaDriver::write_registers(hal::Hal& hal, const Desc& d) {
  const std::uint64_t b = MP_DMA_BASE;
  hal.write32(b + MP_DMA_SRC, d.src);
  hal.write32(b + MP_DMA_DST, d.dst);
  hal.write32(b + MP_DMA_COUNT, d.count);
  hal.write32(b + MP_DMA_ROWS, d.rows);
  hal.write32(b + MP_DMA_SRC_STRIDE, d.src_stride);
  hal.write32(b + MP_DMA_DST_STRIDE, d.dst_stride);
  hal.write32(b + MP_DMA_FORMAT, d.format);
  hal.write32(b + MP_DMA_NEXT, d.next);
}

void DmaDriver::wait_idle() {
  for (;;) {
    const std::uint32_t s = hal_.read32(MP_DMA_BASE + MP_DMA_STATUS);
    if ((s & MP_DMA_STATUS_ERROR_MASK) != 0) {
      check_error(s);  // throws, or restarts the chain / moves it by programmed I/O
      continue;
    }
    retire(s);
    if ((s & (MP_DMA_STATUS_BUSY_MASK | MP_DMA_STATUS_PENDING_MASK)) == 0) return;
    wait_event();
  }
}

}  // namespace memplast::drivers
