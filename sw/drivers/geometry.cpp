#include "sw/drivers/geometry.hpp"

#include <stdexcept>
#include <string>

#include "sw/include/memplast_regs.h"

namespace memplast::drivers {

namespace {

std::uint32_t read_nonzero(hal::Hal& hal, std::uint32_t offset, const char* name) {
  const std::uint32_t v = hal.read32(MP_SYSCTL_BASE + offset);
  if (v == 0) throw std::runtime_error(std::string("sysctl.") + name + " reads 0");
  return v;
}

}  // namespace

Geometry discover(hal::Hal& hal) {
  if (hal.read32(MP_SYSCTL_BASE + MP_SYSCTL_ID) != MP_SYSCTL_ID_RESET) {
    throw std::runtime_error("sysctl.ID does not read \"MPLS\": not a memplast system");
  }
  Geometry g;
  g.n_tiles = read_nonzero(hal, MP_SYSCTL_N_TILES, "N_TILES");
  g.tile_rows = read_nonzero(hal, MP_SYSCTL_TILE_ROWS, "TILE_ROWS");
  g.tile_cols = read_nonzero(hal, MP_SYSCTL_TILE_COLS, "TILE_COLS");
  g.layers = read_nonzero(hal, MP_SYSCTL_LAYERS, "LAYERS");
  g.tile_base = read_nonzero(hal, MP_SYSCTL_TILE_BASE, "TILE_BASE");
  g.tile_stride = read_nonzero(hal, MP_SYSCTL_TILE_STRIDE, "TILE_STRIDE");
  if (g.n_tiles > MP_SYSCTL_TILE_IRQ_SIZE * 8) {
    throw std::runtime_error("sysctl.N_TILES = " + std::to_string(g.n_tiles) +
                             ": more tiles than the TILE_IRQ window has bits (" +
                             std::to_string(MP_SYSCTL_TILE_IRQ_SIZE * 8) + ")");
  }
  return g;
}

std::uint64_t Geometry::tile_addr(unsigned i) const {
  if (i >= n_tiles) {
    throw std::out_of_range("tile" + std::to_string(i) +
                            ": sysctl.N_TILES = " + std::to_string(n_tiles));
  }
  return tile_base + static_cast<std::uint64_t>(i) * tile_stride;
}

unsigned Geometry::tiles_for(const fw::LayerShape& s) const {
  const auto rb = (s.in + tile_rows - 1) / tile_rows;
  const auto cb = (s.out + tile_cols - 1) / tile_cols;
  return static_cast<unsigned>(rb * cb);
}

unsigned Geometry::require(const std::vector<fw::LayerShape>& shapes) const {
  if (shapes.size() != layers) {
    throw std::runtime_error("sysctl.LAYERS = " + std::to_string(layers) + ": the firmware runs " +
                             std::to_string(shapes.size()) + " weight layers");
  }
  unsigned need = 0;
  for (const auto& s : shapes) need += tiles_for(s);
  if (need > n_tiles) {
    throw std::runtime_error("the network needs " + std::to_string(need) + " tiles of " +
                             std::to_string(tile_rows) + " x " + std::to_string(tile_cols) +
                             ", sysctl.N_TILES = " + std::to_string(n_tiles));
  }
  return need;
}

void Geometry::require_tile(unsigned rows, unsigned cols) const {
  if (rows != tile_rows) {
    throw std::runtime_error("sysctl.TILE_ROWS = " + std::to_string(tile_rows) +
                             ": the firmware expects tiles of " + std::to_string(rows) + " rows");
  }
  if (cols != tile_cols) {
    throw std::runtime_error("sysctl.TILE_COLS = " + std::to_string(tile_cols) +
                             ": the firmware expects tiles of " + std::to_string(cols) +
                             " columns");
  }
}

bool TileSet::any() const {
  for (auto w : w_) {
    if (w != 0) return true;
  }
  return false;
}

void TileSet::clear() {
  for (auto& w : w_) w = 0;
}

TileSet& TileSet::operator&=(const TileSet& o) {
  for (std::size_t k = 0; k < w_.size(); ++k) w_[k] &= k < o.w_.size() ? o.w_[k] : 0;
  return *this;
}

TileSet& TileSet::operator|=(const TileSet& o) {
  if (o.w_.size() > w_.size()) w_.resize(o.w_.size(), 0);
  for (std::size_t k = 0; k < o.w_.size(); ++k) w_[k] |= o.w_[k];
  return *this;
}

TileSet& TileSet::and_not(const TileSet& o) {
  for (std::size_t k = 0; k < w_.size() && k < o.w_.size(); ++k) w_[k] &= ~o.w_[k];
  return *this;
}

}  // namespace memplast::drivers
