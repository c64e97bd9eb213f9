#include "bus/sysctl.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::bus {

namespace r = regs::sysctl;

Sysctl::Sysctl(const sc_core::sc_module_name& name, std::uint32_t n_tiles, std::uint32_t tile_rows,
               std::uint32_t tile_cols, std::uint32_t layers)
    : Target(name, r::kRegisters, r::kWindows, sc_core::SC_ZERO_TIME),
      tile_irq("tile_irq"),
      irq_words_((n_tiles + 31) / 32, 0) {
  if (n_tiles > regs::tile::kMaxInstances) {
    throw std::invalid_argument(fmt::format("{}: {} tiles, the address map has room for {}",
                                            this->name(), n_tiles, regs::tile::kMaxInstances));
  }
  static_assert(r::TILE_IRQ_SIZE * 8 >= regs::tile::kMaxInstances,
                "the TILE_IRQ window has a bit for every tile the map has room for");
  tile_irq.init(n_tiles);
  registers().set(r::TILE_ROWS, tile_rows);
  registers().set(r::TILE_COLS, tile_cols);
  registers().set(r::LAYERS, layers);
  registers().set(r::TILE_BASE, static_cast<std::uint32_t>(
                                    n_tiles > 0 ? regs::tile::placement_base(n_tiles) : 0));
  registers().set(r::TILE_STRIDE, static_cast<std::uint32_t>(regs::tile::kStride));
  on_window(r::TILE_IRQ_OFFSET, [this](const WindowAccess& a) {
    const std::size_t first = a.offset / 4;
    const std::size_t n = a.len / 4;
    if (first + n > irq_words_.size()) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    std::memcpy(a.data, irq_words_.data() + first, a.len);
    return tlm::TLM_OK_RESPONSE;
  });
  SC_METHOD(sample_inputs);
  for (auto& p : tile_irq) sensitive << p;
  sensitive << pv_irq << meta_irq << dma_irq;
  // Initialized (runs once at the start: all lines low, nothing changes), so that it is
  // not orphaned when no line is bound.
  registers().set(r::N_TILES, n_tiles);
  registers().on_read(r::SIM_TIME_LO, [this](std::uint32_t) {
    const std::uint64_t t_ns = access_time().value() / sc_core::sc_time(1, sc_core::SC_NS).value();
    registers().set(r::SIM_TIME_HI, static_cast<std::uint32_t>(t_ns >> 32));
    return static_cast<std::uint32_t>(t_ns);
  });
  registers().on_write(r::IRQ_ENABLE, [this](std::uint32_t, std::uint32_t) { update_irq(); });
}

void Sysctl::sample_inputs() {
  bool any = false;
  for (std::size_t w = 0; w < irq_words_.size(); ++w) {
    std::uint32_t bits = 0;
    const std::size_t end = std::min(tile_irq.size(), 32 * (w + 1));
    for (std::size_t i = 32 * w; i < end; ++i) {
      if (sim::level(tile_irq[i])) bits |= std::uint32_t{1} << (i - 32 * w);
    }
    irq_words_[w] = bits;
    any = any || bits != 0;
  }
  registers().set(r::TILE_IRQ_LO, irq_words_.empty() ? 0U : irq_words_[0]);
  registers().set(r::TILE_IRQ_HI, irq_words_.size() < 2 ? 0U : irq_words_[1]);
  std::uint32_t status = 0;
  if (any) status |= r::IRQ_STATUS_TILE_MASK;
  if (sim::level(pv_irq)) status |= r::IRQ_STATUS_PV_MASK;
  if (sim::level(meta_irq)) status |= r::IRQ_STATUS_META_MASK;
  if (sim::level(dma_irq)) status |= r::IRQ_STATUS_DMA_MASK;
  registers().set(r::IRQ_STATUS, status);
  update_irq();
}

void Sysctl::update_irq() {
  irq_level_.update(irq_out,
                    (registers().get(r::IRQ_STATUS) & registers().get(r::IRQ_ENABLE)) != 0);
}

void Sysctl::state_io(StateIO& io) {
  io.section("sysctl");
  registers_state_io(io);
  irq_level_.state_io(io, "sysctl");
}

}  // namespace memplast::bus
