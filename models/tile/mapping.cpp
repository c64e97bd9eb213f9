#include "tile/mapping.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::tile {

std::string Placement::to_string() const {
  std::string s = fmt::format("layer {} x {} on {} x {} tiles\n", layer_rows, layer_cols,
                              row_blocks, col_blocks);
  for (const auto& b : blocks) {
    s += fmt::format("tile {}: block ({}, {}) rows [{}, {}) cols [{}, {})\n", b.tile, b.row_block,
                     b.col_block, b.row0, b.row0 + b.n_rows, b.col0, b.col0 + b.n_cols);
  }
  return s;
}

Placement make_placement(int layer_rows, int layer_cols, int R, int C) {
  Placement p;
  p.layer_rows = layer_rows;
  p.layer_cols = layer_cols;
  p.tile_rows = R;
  p.tile_cols = C;
  p.row_blocks = (layer_rows + R - 1) / R;
  p.col_blocks = (layer_cols + C - 1) / C;
  for (int rb = 0; rb < p.row_blocks; ++rb) {
    for (int cb = 0; cb < p.col_blocks; ++cb) {
      Placement::Block b;
      b.tile = static_cast<int>(p.blocks.size());
      b.row_block = rb;
      b.col_block = cb;
      b.row0 = rb * R;
      b.col0 = cb * C;
      b.n_rows = std::min(R, layer_rows - b.row0);
      b.n_cols = std::min(C, layer_cols - b.col0);
      p.blocks.push_back(b);
    }
  }
  return p;
}

WeightLocation Placement::locate(int row, int col) const {
  if (row < 0 || row >= layer_rows || col < 0 || col >= layer_cols) {
    throw std::out_of_range(
        fmt::format("weight ({}, {}) outside layer {} x {}", row, col, layer_rows, layer_cols));
  }
  const int rb = row / tile_rows;
  const int cb = col / tile_cols;
  return {rb * col_blocks + cb, row - rb * tile_rows, col - cb * tile_cols};
}

TileGrid::TileGrid(int layer_rows, int layer_cols, const TileParams& p,
                   const device::DeviceParams& dp, std::uint64_t global_seed,
                   const std::string& name)
    : R_(static_cast<int>(p.rows)), C_(static_cast<int>(p.cols)) {
  if (layer_rows <= 0 || layer_cols <= 0) {
    throw std::invalid_argument(
        fmt::format("{}: layer shape {} x {} must be positive", name, layer_rows, layer_cols));
  }
  placement_ = make_placement(layer_rows, layer_cols, R_, C_);
  for (const auto& b : placement_.blocks) {
    tiles_.push_back(
        std::make_unique<TileCore>(p, dp, global_seed, fmt::format("{}_t{}", name, b.tile)));
  }
}

WeightLocation TileGrid::locate(int row, int col) const { return placement_.locate(row, col); }

void TileGrid::program_ideal(int row, int col, int level, double t_s) {
  const auto loc = locate(row, col);
  tiles_[static_cast<std::size_t>(loc.tile)]->program_ideal(loc.row, loc.col, level, t_s);
}

void TileGrid::program_ideal_all(const std::vector<int>& levels, double t_s) {
  const auto n = static_cast<std::size_t>(placement_.layer_rows) *
                 static_cast<std::size_t>(placement_.layer_cols);
  if (levels.size() != n) {
    throw std::invalid_argument(fmt::format("program_ideal_all: {} levels for a {} x {} layer",
                                            levels.size(), placement_.layer_rows,
                                            placement_.layer_cols));
  }
  for (int r = 0; r < placement_.layer_rows; ++r) {
    for (int c = 0; c < placement_.layer_cols; ++c) {
      program_ideal(
          r, c,
          levels[static_cast<std::size_t>(r) * static_cast<std::size_t>(placement_.layer_cols) +
                 static_cast<std::size_t>(c)],
          t_s);
    }
  }
  for (auto& t : tiles_) t->program_reference_ideal(t_s);
}

namespace {
void merge_parallel(OpCost& total, const OpCost& c) {
  const double lat = std::max(total.latency_s, c.latency_s);
  total += c;
  total.latency_s = lat;
}
}  // namespace

OpCost TileGrid::forward_batch(const float* X, int batch, float* Y, double t_s,
                               bool signed_inputs) {
  return grid_product(X, batch, Y, t_s, signed_inputs, false);
}

OpCost TileGrid::transpose_batch(const float* X, int batch, float* Y, double t_s,
                                 bool signed_inputs) {
  return grid_product(X, batch, Y, t_s, signed_inputs, true);
}

OpCost TileGrid::profile_batch(Direction dir, const float* X, int batch, double t_s,
                               bool signed_inputs) {
  return grid_product(X, batch, nullptr, t_s, signed_inputs, dir == Direction::transpose);
}

OpCost TileGrid::grid_product(const float* X, int batch, float* Y, double t_s, bool signed_inputs,
                              bool transposed) {
  const int in = transposed ? placement_.layer_cols : placement_.layer_rows;
  const int out = transposed ? placement_.layer_rows : placement_.layer_cols;
  const int in_tile = transposed ? C_ : R_;
  const int out_tile = transposed ? R_ : C_;
  const int in_blocks = transposed ? placement_.col_blocks : placement_.row_blocks;
  const int out_blocks = transposed ? placement_.row_blocks : placement_.col_blocks;
  const auto nb = static_cast<std::size_t>(batch);
  if (Y != nullptr) std::fill(Y, Y + static_cast<std::size_t>(out) * nb, 0.0F);
  xbuf_.assign(static_cast<std::size_t>(in_tile) * nb, 0.0F);
  ybuf_.resize(static_cast<std::size_t>(out_tile) * nb);
  OpCost total;
  for (int ib = 0; ib < in_blocks; ++ib) {
    const int i0 = ib * in_tile;
    const int ni = std::min(in_tile, in - i0);
    for (int v = 0; v < batch; ++v) {  // slice (zero-padded) of every vector
      std::copy_n(X + static_cast<std::size_t>(v) * in + i0, ni,
                  xbuf_.data() + static_cast<std::size_t>(v) * in_tile);
    }
    for (int ob = 0; ob < out_blocks; ++ob) {
      const int rb = transposed ? ob : ib;
      const int cb = transposed ? ib : ob;
      const auto& b = placement_.blocks[static_cast<std::size_t>(rb * placement_.col_blocks + cb)];
      TileCore& tile = *tiles_[static_cast<std::size_t>(b.tile)];
      if (Y == nullptr) {
        merge_parallel(
            total, tile.profile_batch(transposed ? Direction::transpose : Direction::forward,
                                      xbuf_.data(), batch, t_s, tile.encoding(), signed_inputs));
        continue;
      }
      merge_parallel(
          total, transposed
                     ? tile.transpose_batch(xbuf_.data(), batch, ybuf_.data(), t_s, signed_inputs)
                     : tile.forward_batch(xbuf_.data(), batch, ybuf_.data(), t_s, signed_inputs));
      const int o0 = transposed ? b.row0 : b.col0;
      const int no = transposed ? b.n_rows : b.n_cols;
      for (int v = 0; v < batch; ++v) {
        float* y = Y + static_cast<std::size_t>(v) * out + o0;
        const float* p = ybuf_.data() + static_cast<std::size_t>(v) * out_tile;
        for (int j = 0; j < no; ++j) y[j] += p[j];
      }
    }
  }
  return total;
}

}  // namespace memplast::tile
