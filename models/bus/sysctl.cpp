#include "bus/sysctl.hpp"

#include <fmt/format.h>

namespace memplast::bus {

namespace r = regs::sysctl;

Sysctl::Sysctl(const sc_core::sc_module_name& name, std::uint32_t n_tiles,
               std::function<void(bool)> irq_out)
    : Target(name, r::kRegisters, r::kWindows, sc_core::SC_ZERO_TIME), irq_out_(std::move(irq_out)) {
  if (n_tiles > regs::tile::kInstances) {
    throw std::invalid_argument(fmt::format("{}: {} tiles, the address map has room for {}",
                                            this->name(), n_tiles, regs::tile::kInstances));
  }
  registers().set(r::N_TILES, n_tiles);
  registers().on_read(r::SIM_TIME_LO, [this](std::uint32_t) {
    const std::uint64_t t_ns = access_time().value() / sc_core::sc_time(1, sc_core::SC_NS).value();
    registers().set(r::SIM_TIME_HI, static_cast<std::uint32_t>(t_ns >> 32));
    return static_cast<std::uint32_t>(t_ns);
  });
  registers().on_write(r::IRQ_ENABLE, [this](std::uint32_t, std::uint32_t) { update_irq(); });
}

void Sysctl::set_source(std::uint32_t mask, bool level) {
  if (level) {
    registers().set_bits(r::IRQ_STATUS, mask);
  } else {
    registers().clear_bits(r::IRQ_STATUS, mask);
  }
  update_irq();
}

void Sysctl::set_tile_irq(unsigned tile, bool level) {
  if (tile >= registers().get(r::N_TILES)) {
    SC_REPORT_ERROR(name(), fmt::format("set_tile_irq: tile {} of {}", tile,
                                        registers().get(r::N_TILES)).c_str());
    return;
  }
  const std::uint32_t reg = tile < 32 ? r::TILE_IRQ_LO : r::TILE_IRQ_HI;
  const std::uint32_t bit = 1U << (tile % 32);
  if (level) {
    registers().set_bits(reg, bit);
  } else {
    registers().clear_bits(reg, bit);
  }
  set_source(r::IRQ_STATUS_TILE_MASK,
             (registers().get(r::TILE_IRQ_LO) | registers().get(r::TILE_IRQ_HI)) != 0);
}

void Sysctl::set_pv_irq(bool level) { set_source(r::IRQ_STATUS_PV_MASK, level); }
void Sysctl::set_meta_irq(bool level) { set_source(r::IRQ_STATUS_META_MASK, level); }

void Sysctl::update_irq() {
  const bool level = (registers().get(r::IRQ_STATUS) & registers().get(r::IRQ_ENABLE)) != 0;
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_out_) irq_out_(level);
  }
}

}  // namespace memplast::bus
