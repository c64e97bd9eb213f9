#include "bus/sysctl.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace memplast::bus {

namespace r = regs::sysctl;

Sysctl::Sysctl(const sc_core::sc_module_name& name, std::uint32_t n_tiles)
    : Target(name, r::kRegisters, r::kWindows, sc_core::SC_ZERO_TIME), tile_irq("tile_irq") {
  if (n_tiles > regs::tile::kInstances) {
    throw std::invalid_argument(fmt::format("{}: {} tiles, the address map has room for {}",
                                            this->name(), n_tiles, regs::tile::kInstances));
  }
  tile_irq.init(n_tiles);
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
  std::uint64_t tiles = 0;
  for (std::size_t i = 0; i < tile_irq.size(); ++i) {
    if (sim::level(tile_irq[i])) tiles |= std::uint64_t{1} << i;
  }
  registers().set(r::TILE_IRQ_LO, static_cast<std::uint32_t>(tiles));
  registers().set(r::TILE_IRQ_HI, static_cast<std::uint32_t>(tiles >> 32));
  std::uint32_t status = 0;
  if (tiles != 0) status |= r::IRQ_STATUS_TILE_MASK;
  if (sim::level(pv_irq)) status |= r::IRQ_STATUS_PV_MASK;
  if (sim::level(meta_irq)) status |= r::IRQ_STATUS_META_MASK;
  if (sim::level(dma_irq)) status |= r::IRQ_STATUS_DMA_MASK;
  registers().set(r::IRQ_STATUS, status);
  update_irq();
}

void Sysctl::update_irq() {
  const bool level = (registers().get(r::IRQ_STATUS) & registers().get(r::IRQ_ENABLE)) != 0;
  if (level != irq_level_) {
    irq_level_ = level;
    sim::drive(irq_out, level);
  }
}

void Sysctl::state_io(StateIO& io) {
  io.section("sysctl");
  registers_state_io(io);
  bool lvl = irq_level_;
  io.value("irq_level", lvl);
  if (lvl != irq_level_) throw std::runtime_error(io.origin() + ": sysctl interrupt level differs");
}

}  // namespace memplast::bus
