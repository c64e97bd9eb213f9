// MetaPvUpdatePath: the weight-update flow through the meta_unit and pv_ctrl drivers
// (the target flow of the hardware mode). The layers share the unit's flat weight
// space: layer 0's weights are elements [0, n0), layer 1's [n0, n0 + n1), and so on,
// row-major.
//   init        : read the unit's FORMAT register (levels, hidden fixed point) and its
//                 level table (LEVEL_VALUES window); write layout.hidden (the initial
//                 hidden weights the firmware computed, or a trained state for memplast
//                 infer) into the HIDDEN window, which sets LEVELS; with the reference
//                 column, push one P&V command per reference cell of the rows in use of
//                 every tile (CMD_COL = tile_cols); read the LEVELS window and push one
//                 P&V command per weight to pv_ctrl (the initial write of every
//                 device), wait until pv_ctrl is idle;
//   accumulate  : the layer's gradient into its part of the GRAD window (block write);
//   update      : CMD ACCUMULATE then STEP over all weights (BATCH stays 1: one
//                 accumulate of the batch-mean gradient per step, as the functional
//                 engine's mean over one accumulate call); meta_unit pushes each level
//                 change to pv_ctrl's queue itself; the firmware waits for DONE, then for
//                 pv_ctrl idle; returns CHANGES_COUNT;
//   read_weights: the LEVELS window of the layer, mapped through the level values;
//   new_task    : CMD NEW_TASK;
//   refresh     : (train.refresh_every_epochs) per layer, read the LEVELS window and push
//                 every reference cell and every weight again with FORCE at its current
//                 level, as init() does: pv_ctrl re-verifies each device and reprograms
//                 the ones that left their band; wait until idle (with recovery); returns
//                 the pulses (CNT_PULSES before and after);
//   read_hidden : the layer's HIDDEN window (the trained state, read back at the end).
// Recovery (docs/reliability.md): after every wait for pv_ctrl idle whose STATUS shows
// FAIL_PENDING, the firmware drains pv_ctrl's failure log. A weight whose command failed
// (P&V) or was lost (queue overflow) is pushed again with FORCE, its current level read
// from LEVELS, up to faults.retry_limit times per wait; a weight still failing then is
// "failed": failed weights are grouped by tile column, and the columns with the most
// failed weights are remapped to the tile's free spare columns (tile register
// COL_REMAP, every weight of the column reprogrammed with FORCE); the failed weights no
// spare repairs are marked skipped in pv_ctrl (SKIP: no more programming; the devices
// keep their state). A reference cell that still fails after its retries is left as it
// is (no spare reference column) and counted as unrepaired. The counts are in
// recovery().
// Firmware code: HAL and register header only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "fw/accelerator.hpp"
#include "sw/drivers/geometry.hpp"
#include "sw/drivers/meta_driver.hpp"
#include "sw/drivers/pv_driver.hpp"
#include "sw/drivers/update_path.hpp"
#include "sw/hal/hal.hpp"

namespace memplast::drivers {

struct MetaPvLayout {
  std::vector<fw::LayerShape> shapes{};
  // Tile geometry the firmware lays the weights out for; both 0: the hardware's
  // (sysctl.TILE_ROWS / TILE_COLS). Otherwise it must match them (an error names the
  // register).
  unsigned tile_rows{0};
  unsigned tile_cols{0};
  // Hidden weights to load before the initial programming (in x out per layer), or
  // empty: keep the unit's. Written in the unit's fixed point (FORMAT.HIDDEN_FRAC_BITS) by
  // init(), which then releases them.
  std::vector<std::vector<double>> hidden{};
  // Storage the unit holds, for the memory report (computed from the configuration).
  std::uint64_t hidden_bits{0};
  std::uint64_t optimizer_bits{0};
  std::uint64_t stored_bits{0};
  // Recovery policy (faults.retry_limit, faults.remap, faults.skip) and the spare
  // columns per tile (tile.spare_cols).
  unsigned retry_limit{2};
  bool remap{true};
  bool skip{true};
  unsigned spare_cols{0};
  // tile.mapping = reference_column: every tile has a reference column (physical
  // column tile_cols), whose cells init() programs through pv_ctrl (CMD_COL =
  // tile_cols) before the weights.
  bool reference_column{false};
};

// What the recovery saw and did, over the run.
struct RecoveryStats {
  std::uint64_t pv_failed{0};         // failure-log entries: P&V failed
  std::uint64_t dropped{0};           // failure-log entries: command lost (queue overflow)
  std::uint64_t retries{0};           // weights pushed again (FORCE)
  std::uint64_t failed_weights{0};    // weights still failing after the retries
  std::uint64_t remapped_columns{0};  // columns moved to a spare column
  std::uint64_t reprogrammed{0};      // weights pushed to fill a remapped column
  std::uint64_t skipped_weights{0};   // weights marked skipped
  std::uint64_t unrepaired{0};        // failed weights neither remapped nor skipped (policy off),
                                      // and failed reference cells
};

class MetaPvUpdatePath : public UpdatePath {
 public:
  MetaPvUpdatePath(hal::Hal& hal, MetaPvLayout layout, unsigned irq_line);

  void init() override;
  void read_weights(int layer, float* w) override;
  void accumulate(int layer, const float* grad) override;
  std::size_t update() override;
  void new_task() override;
  std::uint64_t refresh() override;
  // The layer's hidden weights (in x out, row-major) from the HIDDEN window.
  void read_hidden(int layer, float* h);
  // The level table read by init() (value of level k).
  [[nodiscard]] const std::vector<float>& level_values() const { return level_values_; }
  [[nodiscard]] std::uint64_t memory_hidden_bits() const override { return L_.hidden_bits; }
  [[nodiscard]] std::uint64_t memory_optimizer_bits() const override { return L_.optimizer_bits; }
  [[nodiscard]] std::uint64_t memory_stored_bits() const override { return L_.stored_bits; }
  // Checkpoints: the meta_unit driver's cached N_WEIGHTS.
  [[nodiscard]] std::uint32_t cached_n_weights() const { return meta_.cached_n_weights(); }
  void set_cached_n_weights(std::uint32_t n) { meta_.set_cached_n_weights(n); }
  [[nodiscard]] const RecoveryStats& recovery() const { return rec_; }
  // Checkpoints: the recovery state (remapped columns, skipped weights, counts) as words.
  [[nodiscard]] std::vector<std::uint64_t> recovery_words() const;
  void restore_recovery_words(const std::vector<std::uint64_t>& w);
  // host.data_movement = dma: gradients go to meta_unit by DMA (MetaDriver::set_dma).
  void set_dma(DmaDriver* dma) { meta_.set_dma(dma); }

 private:
  [[nodiscard]] std::size_t count(int layer) const;
  // Layer `layer`'s first weight in the unit's flat space (the layers before it), and the
  // weights of all layers.
  [[nodiscard]] std::size_t first(int layer) const;
  [[nodiscard]] std::size_t total() const;
  // Waits for pv_ctrl idle, then recovers the failures it reports (see above).
  void wait_and_recover();
  void recover();
  // One command of the initial programming; recovers when the failure log fills up.
  void push_checked(unsigned tile, unsigned row, unsigned col, std::uint32_t level,
                    bool force = false);
  // Layer l (first tile `first_tile`): read its LEVELS, push its reference cells (reference
  // mapping) and every weight at its level (init, refresh with FORCE). Returns the
  // layer's tile count.
  unsigned push_layer(int l, unsigned first_tile, bool force);
  // The layer, weight index and tile-block row count of (tile, row, col).
  struct Where {
    int layer{0};
    std::size_t index{0};  // in the layer, row-major in x out
    unsigned n_rows{0};    // rows of the layer in this tile
  };
  [[nodiscard]] Where locate(unsigned tile, unsigned row, unsigned col) const;
  std::int32_t level_of(const Where& w);
  static std::uint64_t key(std::uint64_t tile, std::uint64_t row, std::uint64_t col) {
    return (tile << 40) | (row << 20) | col;
  }

  hal::Hal& hal_;
  Geometry geo_;  // sysctl's, read at construction
  MetaPvLayout L_;
  unsigned irq_line_;
  MetaDriver meta_;
  PvDriver pv_;
  std::vector<bool> grad_written_;
  std::vector<std::int32_t> levels_;
  MetaDriver::Format format_{};
  std::vector<float> level_values_;  // value of level index k, from LEVEL_VALUES
  RecoveryStats rec_;
  std::map<std::uint64_t, unsigned> remapped_;  // key(tile, 0, col) -> spare column
  std::map<unsigned, unsigned> spares_used_;    // tile -> spare columns used
  std::set<std::uint64_t> skipped_;             // key(tile, row, col)
};

}  // namespace memplast::drivers
