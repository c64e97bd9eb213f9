// A layer's weight matrix on a grid of tiles: rows split into row blocks, columns into
// column blocks; tile (rb, cb) holds W[rb*R .. rb*R+R) x [cb*C .. cb*C+C). Forward MVM
// drives every tile of a row block with that block's slice of x and sums the partial
// outputs of the row blocks digitally (a float add per output per row block).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tile/tile_core.hpp"

namespace memplast::tile {

struct WeightLocation {
  int tile{0};  // index into the placement's blocks (TileGrid::tile())
  int row{0};   // row and column inside that tile
  int col{0};
};

struct Placement {
  struct Block {
    int tile{0};  // index into TileGrid::tile()
    int row_block{0};
    int col_block{0};
    int row0{0};    // first layer row held
    int col0{0};    // first layer column held
    int n_rows{0};  // rows of the layer in this tile (<= R)
    int n_cols{0};
  };
  int layer_rows{0};
  int layer_cols{0};
  int row_blocks{0};
  int col_blocks{0};
  int tile_rows{0};  // R
  int tile_cols{0};  // C
  std::vector<Block> blocks;
  [[nodiscard]] std::string to_string() const;  // one line per tile
  // The tile, row and column holding layer weight (row, col); std::out_of_range outside
  // the layer.
  [[nodiscard]] WeightLocation locate(int row, int col) const;
};

// The placement of a layer_rows x layer_cols layer on R x C tiles: row-block-major,
// tile (rb, cb) is block rb * col_blocks + cb. The one definition of the layout that
// TileGrid, the SystemC top and its update paths use (the firmware re-derives it from
// the tiles' registers: sw/drivers/hal_accelerator.*).
Placement make_placement(int layer_rows, int layer_cols, int R, int C);

class TileGrid {
 public:
  // Tiles are named "<name>_t<index>" (their random streams derive from that name).
  TileGrid(int layer_rows, int layer_cols, const TileParams& p, const device::DeviceParams& dp,
           std::uint64_t global_seed, const std::string& name);

  [[nodiscard]] int layer_rows() const { return placement_.layer_rows; }
  [[nodiscard]] int layer_cols() const { return placement_.layer_cols; }
  [[nodiscard]] const Placement& placement() const { return placement_; }
  [[nodiscard]] int n_tiles() const { return static_cast<int>(tiles_.size()); }
  TileCore& tile(int i) { return *tiles_.at(static_cast<std::size_t>(i)); }
  [[nodiscard]] WeightLocation locate(int row, int col) const;

  void program_ideal(int row, int col, int level, double t_s);
  // Levels row-major layer_rows x layer_cols; the tiles' reference columns (reference
  // mapping) are written ideally too (TileCore::program_reference_ideal).
  void program_ideal_all(const std::vector<int>& levels, double t_s);

  // Forward: X is layer_rows x batch (column-major), Y is layer_cols x batch.
  // Transpose: X is layer_cols x batch, Y is layer_rows x batch.
  // The cost sums energies; latency assumes tiles work in parallel and the layer
  // latency is that of the slowest tile (the digital accumulation is not timed).
  OpCost forward_batch(const float* X, int batch, float* Y, double t_s, bool signed_inputs = false);
  OpCost transpose_batch(const float* X, int batch, float* Y, double t_s,
                         bool signed_inputs = true);
  // A profiling read (TileCore::profile_batch) on every tile with its slice of X (the
  // layout of forward_batch / transpose_batch); no outputs. Cost as an MVM's.
  OpCost profile_batch(Direction dir, const float* X, int batch, double t_s, bool signed_inputs);

 private:
  // Both products: the input vectors are cut into tile-sized slices along the input axis
  // (rows forward, columns transposed); each block's partial output adds into Y at the
  // block's offset along the output axis.
  // Y == nullptr: a profiling read (no outputs).
  OpCost grid_product(const float* X, int batch, float* Y, double t_s, bool signed_inputs,
                      bool transposed);

  Placement placement_;
  std::vector<std::unique_ptr<TileCore>> tiles_;
  int R_;
  int C_;
  std::vector<float> xbuf_;
  std::vector<float> ybuf_;
};

}  // namespace memplast::tile
