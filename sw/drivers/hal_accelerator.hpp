// HalAccelerator: the firmware's fw::Accelerator on the hardware, reached only through
// the HAL. MVMs run on the tiles: each layer is laid out on a grid of R x C tiles
// exactly as tile::TileGrid does (tile (rb, cb) holds rows [rb*R, ..) and columns
// [cb*C, ..); tiles numbered row-block-major; layer 0 from tile 0, layer 1 right after),
// R, C, the tile count and the tiles' addresses read from sysctl (drivers::discover) and
// checked against tile 0's registers. Per MVM chunk of up to BUF_VECTORS vectors: write
// each tile's INPUT window (one block transfer), set CONFIG, start CMD; then wait for
// every tile's DONE interrupt (sysctl aggregates the tile lines onto host line
// `irq_line`; TILE_IRQ_LO/HI and the TILE_IRQ window say which), clear it, and read the
// OUTPUT windows in tile order, adding the row-block (column-block for transpose) partial
// sums in the same order as TileGrid, so the result equals FunctionalAccelerator's bit
// for bit when the tiles hold the same conductances.
// Weight updates go through an UpdatePath (update_path.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "fw/accelerator.hpp"
#include "fw/adc_range.hpp"
#include "sw/drivers/dma_driver.hpp"
#include "sw/drivers/geometry.hpp"
#include "sw/drivers/tile_driver.hpp"
#include "sw/drivers/update_path.hpp"
#include "sw/hal/hal.hpp"

namespace memplast::drivers {

class HalAccelerator : public fw::Accelerator {
 public:
  // `irq_line`: the host interrupt line sysctl drives. Reads the geometry (discover:
  // sysctl N_TILES, TILE_ROWS/COLS, LAYERS, TILE_BASE/STRIDE), checks that the network's
  // layers fit it (an error names the register), programs the sysctl and tile interrupt
  // enables, then calls update.init().
  // `dma` (host.data_movement = dma): tile inputs and outputs move by DMA through host
  // memory (mvm_chunk); null: programmed I/O.
  HalAccelerator(hal::Hal& hal, std::vector<fw::LayerShape> shapes, UpdatePath& update,
                 unsigned irq_line = 0, DmaDriver* dma = nullptr);

  void forward(int layer, const float* x, int batch, float* y) override;
  void transpose(int layer, const float* d, int batch, float* y) override;
  void read_weights(int layer, float* w) override { update_.read_weights(layer, w); }
  void accumulate(int layer, const float* grad) override { update_.accumulate(layer, grad); }
  std::size_t update() override;
  void new_task() override { update_.new_task(); }
  std::uint64_t refresh() override { return update_.refresh(); }
  void host_compute(std::uint64_t macs, std::uint64_t ops) override;
  // tile.adc_calibration = startup: CMD.OP = ADC_TRIM on every tile of both layers (they
  // trim in parallel), waiting for all of them.
  void calibrate_adcs();
  // tile.adc_range: with a profile_* mode, the first forward and the first transpose MVM
  // of each layer are preceded by a profiling read (CMD.OP = PROFILE_*) of their first
  // chunk on the layer's tiles, from whose PROFILE histograms the ADC range is chosen
  // (fw::adc_range_steps, per tile or over the layer) and written to ADC_RANGE_*.
  void set_adc_range_mode(fw::AdcRangeMode mode, double percentile) {
    range_mode_ = mode;
    range_percentile_ = percentile;
  }
  [[nodiscard]] double now_s() const override { return hal_.now_ns() * 1e-9; }
  // Firmware-side statistics only (level changes, MVM vectors); the system top adds the
  // hardware's (energy, writes, pulses).
  [[nodiscard]] fw::AccelStats stats() const override;
  [[nodiscard]] std::uint64_t memory_hidden_bits() const override {
    return update_.memory_hidden_bits();
  }
  [[nodiscard]] std::uint64_t memory_optimizer_bits() const override {
    return update_.memory_optimizer_bits();
  }
  [[nodiscard]] std::uint64_t memory_stored_bits() const override {
    return update_.memory_stored_bits();
  }

  [[nodiscard]] std::uint64_t host_macs() const { return macs_; }
  [[nodiscard]] std::uint64_t host_ops() const { return ops_; }
  // Checkpoints: the driver's counters (level changes, MVM vectors, host MACs and
  // operations) and each tile driver's cached CONFIG value.
  [[nodiscard]] std::vector<std::uint64_t> checkpoint_words() const;
  void restore_checkpoint_words(const std::vector<std::uint64_t>& w);
  [[nodiscard]] unsigned tiles_used() const { return static_cast<unsigned>(tiles_.size()); }
  // Tile index holding row block rb, column block cb of `layer`.
  [[nodiscard]] unsigned tile_of(int layer, int rb, int cb) const;

  // ADC saturation (docs/reliability.md): after an MVM chunk, a tile whose IRQ_STATUS
  // showed ADC_SAT has its ADC_SAT_COUNT read; with recovery on, its MVM is re-run (its
  // INPUT window still holds the inputs) up to `retry_limit` times while it saturates,
  // then once with its inputs halved (read back from INPUT, halved, written; the output
  // doubled); a saturation left after that is accepted and counted.
  struct AdcSatStats {
    std::uint64_t flagged{0};     // tile MVMs that ended with IRQ_STATUS.ADC_SAT
    std::uint64_t codes{0};       // ADC_SAT_COUNT read on those (first run)
    std::uint64_t reruns{0};      // MVMs re-run as they were
    std::uint64_t rescaled{0};    // MVMs re-run with halved inputs
    std::uint64_t recovered{0};   // flagged MVMs whose last run did not saturate
    std::uint64_t unresolved{0};  // flagged MVMs still saturating after all that
  };
  void set_adc_recovery(bool on, std::uint64_t retry_limit) {
    adc_recover_ = on;
    adc_retry_limit_ = retry_limit;
  }
  [[nodiscard]] const AdcSatStats& adc_sat() const { return adc_sat_; }
  // The geometry the firmware read from sysctl at start-up.
  [[nodiscard]] const Geometry& geometry() const { return geo_; }
  AdcSatStats& adc_sat_ref() { return adc_sat_; }

 private:
  struct LayerMap {
    fw::LayerShape shape{};
    int row_blocks{0};
    int col_blocks{0};
    unsigned first_tile{0};
  };
  // One MVM chunk of n <= buf vectors: x is n x in_dim (row-major), y is n x out_dim.
  void mvm_chunk(const LayerMap& L, bool transpose, const float* x, int n, float* y);
  // The same with the DMA engine: inputs staged in host memory, one chain that writes
  // every tile's INPUT window and its CMD; then one chain that reads every OUTPUT window.
  void mvm_chunk_dma(const LayerMap& L, bool transpose, const float* x, int n, float* y);
  // Stages x per drive block and starts `op` (an MVM or a profiling read) on every tile
  // of the layer: CONFIG (n, direction), INPUT, CMD, in HalAccelerator's tile order.
  // Returns the tiles started.
  TileSet start_tiles(const LayerMap& L, bool transpose, const float* x, int n, std::uint32_t op);
  // Waits for the tiles of `pending`; returns those whose IRQ_STATUS had ADC_SAT.
  TileSet wait_tiles(TileSet pending);
  // The ADC saturation handling above for the tiles of `flagged` (op: the MVM's CMD.OP,
  // n_in: the floats of one tile's INPUT); sets out_scale_ of the rescaled tiles.
  void handle_saturation(const TileSet& flagged, std::uint32_t op, std::size_t n_in);
  // That handling for one tile t.
  void rerun_saturated(unsigned t, std::uint32_t op, std::size_t n_in);
  // The profiling read before the first MVM of (layer, direction) (set_adc_range_mode);
  // x: the first chunk's n vectors (scaled to the DAC range).
  void profile_range(int layer, bool transpose, const float* x, int n);
  static unsigned tile_index(const LayerMap& L, int rb, int cb);

  hal::Hal& hal_;
  Geometry geo_;  // sysctl's, read at start-up
  UpdatePath& update_;
  unsigned irq_line_;
  std::vector<TileDriver> tiles_;
  std::vector<LayerMap> layers_;
  unsigned R_{0};
  unsigned C_{0};
  unsigned buf_{0};
  std::vector<float> xbuf_;
  std::vector<float> ybuf_;
  std::vector<float> scaled_;
  DmaDriver* dma_;
  std::uint64_t dma_in_{0};   // host memory: staged inputs, one block per drive block
  std::uint64_t dma_out_{0};  // host memory: outputs, one block per tile of a layer
  std::uint64_t level_changes_{0};
  std::uint64_t mvm_vectors_{0};
  std::uint64_t macs_{0};
  std::uint64_t ops_{0};
  bool adc_recover_{false};
  std::uint64_t adc_retry_limit_{0};
  AdcSatStats adc_sat_;
  std::vector<float> out_scale_;  // per tile: the factor its outputs get (halved inputs: 2)
  fw::AdcRangeMode range_mode_{fw::AdcRangeMode::fixed};
  double range_percentile_{100.0};
  // Per layer and direction (forward, transpose): 1 profiled, 0 not yet, -1 unknown after
  // a checkpoint restore (then read back from the first tile's ADC_RANGE_* register).
  std::vector<std::array<int, 2>> profiled_;
};

}  // namespace memplast::drivers
