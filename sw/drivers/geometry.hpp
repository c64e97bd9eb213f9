// The accelerator's geometry as the hardware reports it (sysctl: N_TILES, TILE_ROWS,
// TILE_COLS, LAYERS, TILE_BASE, TILE_STRIDE), read once at start-up. The firmware sizes
// its tile drivers, row/column blocks and tile addresses from it, not from constants
// of the register map; what it needs and the hardware does not have is an error naming
// the register. Firmware code: reaches the hardware only via the HAL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fw/accelerator.hpp"
#include "sw/hal/hal.hpp"

namespace memplast::drivers {

struct Geometry {
  unsigned n_tiles{0};
  unsigned tile_rows{0};
  unsigned tile_cols{0};
  unsigned layers{0};
  std::uint64_t tile_base{0};
  std::uint64_t tile_stride{0};

  // Address of tile i (0 .. n_tiles-1; std::out_of_range beyond, naming sysctl.N_TILES).
  [[nodiscard]] std::uint64_t tile_addr(unsigned i) const;
  // Tiles a layer of in x out weights takes (row blocks x column blocks).
  [[nodiscard]] unsigned tiles_for(const fw::LayerShape& s) const;
  // The firmware's network against the hardware: as many weight layers as sysctl.LAYERS
  // and the tiles they take fit sysctl.N_TILES; std::runtime_error naming the register
  // otherwise. Returns the tiles the network uses.
  unsigned require(const std::vector<fw::LayerShape>& shapes) const;
  // The firmware was built for tiles of rows x cols (its layout): sysctl.TILE_ROWS /
  // TILE_COLS must say the same (std::runtime_error naming the register otherwise).
  void require_tile(unsigned rows, unsigned cols) const;
};

// Reads sysctl's geometry registers over the bus (timed register reads, as any firmware
// access: ID, N_TILES, TILE_ROWS, TILE_COLS, LAYERS, TILE_BASE, TILE_STRIDE). Checks
// sysctl.ID and that every value is usable (a zero register is an error naming it).
Geometry discover(hal::Hal& hal);

// A set of tile indices (bit t = tile t), as wide as the system's tile count.
class TileSet {
 public:
  TileSet() = default;
  explicit TileSet(std::size_t n_tiles) : w_((n_tiles + 63) / 64, 0) {}
  void set(unsigned t) { w_[t / 64] |= std::uint64_t{1} << (t % 64); }
  void reset(unsigned t) { w_[t / 64] &= ~(std::uint64_t{1} << (t % 64)); }
  [[nodiscard]] bool test(unsigned t) const { return ((w_[t / 64] >> (t % 64)) & 1U) != 0; }
  [[nodiscard]] bool any() const;
  void clear();
  [[nodiscard]] std::size_t words() const { return w_.size(); }
  // 32-bit word k (tiles 32k .. 32k+31), as sysctl's TILE_IRQ window lays them out.
  [[nodiscard]] std::uint32_t word32(std::size_t k) const {
    return static_cast<std::uint32_t>(w_[k / 2] >> (32 * (k % 2)));
  }
  [[nodiscard]] std::uint64_t word64(std::size_t k) const { return w_[k]; }
  void or_word32(std::size_t k, std::uint32_t bits) {
    w_[k / 2] |= static_cast<std::uint64_t>(bits) << (32 * (k % 2));
  }
  // Calls f(t) for every tile t in the set, in increasing order.
  template <typename F>
  void for_each(F f) const {
    for (std::size_t k = 0; k < w_.size(); ++k) {
      for (std::uint64_t b = w_[k]; b != 0; b &= b - 1) {
        f(static_cast<unsigned>(k * 64 + static_cast<unsigned>(__builtin_ctzll(b))));
      }
    }
  }
  TileSet& operator&=(const TileSet& o);
  TileSet& operator|=(const TileSet& o);
  TileSet& and_not(const TileSet& o);

 private:
  std::vector<std::uint64_t> w_;
};

}  // namespace memplast::drivers
