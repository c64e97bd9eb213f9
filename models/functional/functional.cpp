#include "functional/functional.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include <Eigen/Dense>

#include "bus/dma_cost.hpp"
#include "bus/pio_cost.hpp"
#include "common/energy.hpp"
#include "common/schema.hpp"
#include "common/thread_pool.hpp"
#include "fw/adc_range.hpp"
#include "fw/dac_scale.hpp"
#include "meta/meta_cost.hpp"
#include "meta/meta_init.hpp"
#include "pv/pv_algo.hpp"
#include "pv/pv_weight.hpp"
#include "tile/mapping.hpp"
#include "tile/tile_histograms.hpp"

namespace memplast::functional {

namespace {
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapM = Eigen::Map<Mat>;
using CMapM = Eigen::Map<const Mat>;
// The hardware's index of each placement block's tile (the layer's tiles follow
// `first`, in placement order).
std::vector<unsigned> block_tiles(unsigned first, const tile::Placement& pl) {
  std::vector<unsigned> t;
  t.reserve(pl.blocks.size());
  for (const auto& b : pl.blocks) t.push_back(first + static_cast<unsigned>(b.tile));
  return t;
}
// One MVM chunk's sizes on a layer's tile grid: `drive` inputs and `sense` outputs per
// tile, the blocks along and across the inputs, the tile's CONFIG word.
struct ChunkDims {
  std::uint64_t nv, drive, sense;
  int drive_blocks, other_blocks;
  tile::Direction dir;
  int config;
  std::size_t in_dim, out_dim;
};
ChunkDims chunk_dims(const tile::Placement& pl, bool transpose, int n, bool signed_inputs) {
  return {static_cast<std::uint64_t>(n),
          static_cast<std::uint64_t>(transpose ? pl.tile_cols : pl.tile_rows),
          static_cast<std::uint64_t>(transpose ? pl.tile_rows : pl.tile_cols),
          transpose ? pl.col_blocks : pl.row_blocks,
          transpose ? pl.row_blocks : pl.col_blocks,
          transpose ? tile::Direction::transpose : tile::Direction::forward,
          2 * n + (signed_inputs ? 1 : 0),
          static_cast<std::size_t>(transpose ? pl.layer_cols : pl.layer_rows),
          static_cast<std::size_t>(transpose ? pl.layer_rows : pl.layer_cols)};
}
// y (nv x out_dim) = the blocks' partial sums (`out`: per block, nv x sense), added in
// tile order (HalAccelerator, TileGrid).
void sum_partials(const tile::Placement& pl, bool transpose, const float* out, std::size_t sense,
                  std::size_t nv, std::size_t out_dim, float* y) {
  std::fill(y, y + nv * out_dim, 0.0F);
  for (std::size_t k = 0; k < pl.blocks.size(); ++k) {
    const auto& b = pl.blocks[k];
    const auto o0 = static_cast<std::size_t>(transpose ? b.row0 : b.col0);
    const auto no = static_cast<std::size_t>(transpose ? b.n_rows : b.n_cols);
    for (std::size_t v = 0; v < nv; ++v) {
      float* yy = y + v * out_dim + o0;
      const float* p = out + k * sense * nv + v * sense;
      for (std::size_t j = 0; j < no; ++j) yy[j] += p[j];
    }
  }
}
}  // namespace

struct FunctionalAccelerator::Layer {
  fw::LayerShape shape{};
  std::unique_ptr<meta::MetaEngine> meta;
  Mat w;  // quantized weight values (in x out): the ideal weights, and the digital view
  // Device mode: the layer on a grid of tiles; writes are counted per device that
  // exists: per weight and side (differential: pos = 2i, neg = 2i+1; reference column:
  // i), then (reference column) the reference cells of the rows in use, per tile in
  // placement order (n + ref_first[block] + row).
  std::unique_ptr<tile::TileGrid> grid;
  std::vector<std::size_t> ref_first;
  std::vector<std::uint32_t> writes;
  std::vector<std::int8_t> level;  // level currently programmed in the devices
  unsigned first_tile{0};          // the layer's first tile in the hardware's numbering
  std::uint64_t first_weight{0};   // the layer's first weight in meta_unit's windows
};

namespace {
// The reference mapping's reference cells: the first index of each block's rows (in
// placement order) into `first`; returns their number.
std::size_t reference_rows(const tile::TileGrid& grid, std::vector<std::size_t>& first) {
  std::size_t n_ref = 0;
  for (const auto& b : grid.placement().blocks) {
    first.push_back(n_ref);
    n_ref += static_cast<std::size_t>(b.n_rows);
  }
  return n_ref;
}
}  // namespace

FunctionalAccelerator::FunctionalAccelerator(const Config& cfg, std::vector<fw::LayerShape> shapes)
    : cfg_(cfg), ledger_(std::make_unique<EnergyLedger>()) {
  for (std::size_t p = 0; p < tile::kPhases; ++p) {
    e_tile_[p] = ledger_->entry("tile", tile::phase_name(static_cast<tile::Phase>(p)));
  }
  e_pv_ = ledger_->entry("pv_ctrl", "program_verify");
  e_host_ = ledger_->entry("host", "compute");
  e_pv_verify_ = ledger_->row_entry("pv_ctrl", "verify");
  e_pv_set_ = ledger_->row_entry("pv_ctrl", "set");
  e_pv_reset_ = ledger_->row_entry("pv_ctrl", "reset");
  e_host_mac_ = ledger_->row_entry("host", "mac");
  e_host_op_ = ledger_->row_entry("host", "op");
  // meta_unit's operations at the per-operation energies of the hardware mode's
  // meta_unit (meta.e_accumulate_pJ, meta.e_update_pJ, meta.e_sram_access_pJ and the
  // SRAM traffic of meta_cost.hpp): one ACCUMULATE and one STEP over both layers' weights
  // per update, one NEW_TASK sweep per task boundary, as the firmware drives them.
  e_meta_acc_ = ledger_->entry("meta_unit", "accumulate");
  e_meta_update_ = ledger_->entry("meta_unit", "update");
  e_meta_sram_ = ledger_->entry("meta_unit", "sram");
  // The bus's rows, as bus::Router charges them: per transaction, its occupancy and
  // bus.e_beat_pJ per bus cycle.
  e_bus_read_ = ledger_->entry("bus", "read");
  e_bus_write_ = ledger_->entry("bus", "write");
  // host.data_movement = dma: the DMA engine's rows (bus::Dma) and host memory's
  // (bus::HostMemory), as the hardware mode charges them.
  dma_ = cfg.train.device_effects && cfg.host.data_movement == "dma";
  if (dma_) {
    e_dma_beat_ = ledger_->entry("dma", "beat");
    e_dma_transfer_ = ledger_->row_entry("dma", "transfer");
    e_hm_read_ = ledger_->entry("host_mem", "read");
    e_hm_write_ = ledger_->entry("host_mem", "write");
  }
  // The meta_unit -> pv_ctrl command path (pv.cmd_path): the link's energy per transfer,
  // or meta_unit's bus command energy plus the bus transaction.
  if (cfg.train.device_effects) {
    e_path_ = cfg.pv.cmd_path == "link" ? ledger_->entry("meta_pv_link", "transfer")
                                        : ledger_->entry("meta_unit", "pv_cmd");
  }
  tile_word_s_ = 1.0 / (cfg.tile.f_clk_MHz * 1e6);
  meta_word_s_ = 1.0 / (cfg.meta.f_clk_MHz * 1e6);
  meta_clk_s_ = meta_word_s_;
  // The initial programming below is the firmware's "init" phase of the hardware mode.
  ledger_->begin_phase("init", t_);
  unsigned next_tile = 0;
  std::uint64_t next_weight = 0;
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    Layer L;
    L.shape = shapes[l];
    L.first_tile = next_tile;
    L.first_weight = next_weight;
    next_weight += shapes[l].in * shapes[l].out;
    const std::size_t n = shapes[l].in * shapes[l].out;
    L.meta = meta::make_engine(cfg.meta, n);
    meta::init_layer(*L.meta, static_cast<std::uint64_t>(cfg.sim.seed), l,
                     cfg.train.init_half_range);
    L.w.resize(static_cast<Eigen::Index>(shapes[l].in), static_cast<Eigen::Index>(shapes[l].out));
    meta::level_values(*L.meta, L.w.data());
    if (cfg.train.device_effects) {
      L.grid = std::make_unique<tile::TileGrid>(
          static_cast<int>(shapes[l].in), static_cast<int>(shapes[l].out), cfg.tile, cfg.device,
          static_cast<std::uint64_t>(cfg.sim.seed), "layer" + std::to_string(l));
      // Writes per device: two per weight, or one per weight and one per reference cell.
      const bool ref = L.grid->tile(0).mapping() == tile::Mapping::reference_column;
      L.writes.assign(n + (ref ? reference_rows(*L.grid, L.ref_first) : n), 0);
      L.level.assign(n, -1);
      next_tile += static_cast<unsigned>(L.grid->n_tiles());
    } else {
      L.writes.assign(n, 0);
    }
    layers_.push_back(std::move(L));
  }
  if (cfg.train.device_effects) {
    tile_config_.assign(next_tile, -1);
    initial_programming();
    if (cfg.tile.adc_calibration == "startup") calibrate_adcs();
  }
  ledger_->end_phase(t_);
}

void FunctionalAccelerator::calibrate_adcs() {
  // tile.adc_calibration = startup: every tile's ADC trim, all tiles in parallel (as the
  // firmware starts ADC_TRIM on every tile and waits for all).
  // The CMD write per tile and the wait as HalAccelerator's; the trim itself runs at
  // its CMD.
  std::vector<double> done;
  std::vector<unsigned> tiles;
  for (auto& L : layers_) {
    for (int t = 0; t < L.grid->n_tiles(); ++t) {
      const double start = pio(true, 4, tile_word_s_);  // CMD = ADC_TRIM
      const tile::OpCost c = L.grid->tile(t).calibrate_adc_trim();
      charge_energy(c);
      done.push_back(start + c.latency_s);
      tiles.push_back(L.first_tile + static_cast<unsigned>(t));
    }
  }
  wait_tiles(done, tiles);
}

void FunctionalAccelerator::initial_programming() {
  // The firmware's set-up, as the hardware mode's drivers do it (MetaDriver, PvDriver,
  // HalAccelerator and TileDriver constructors): register accesses only.
  pio(true, 4, meta_word_s_);  // meta_unit CONFIG
  pio(true, 4, meta_word_s_);  // meta_unit IRQ_ENABLE
  pio(false, 4, 0.0);          // pv_ctrl QUEUE_DEPTH
  pio(true, 4, 0.0);           // pv_ctrl IRQ_ENABLE
  if (dma_) {                  // DmaDriver: IRQ_STATUS cleared, IRQ_ENABLE
    dma_irq_cleared_ = pio(true, 4, 0.0);
    pio(true, 4, 0.0);
  }
  // drivers::discover, by MetaPvUpdatePath and by HalAccelerator: sysctl ID, N_TILES,
  // TILE_ROWS, TILE_COLS, LAYERS, TILE_BASE, TILE_STRIDE, each a timed read.
  for (int k = 0; k < 2 * 7; ++k) pio(false, 4, 0.0);
  for (int k = 0; k < 4; ++k) pio(false, 4, tile_word_s_);  // tile0 ROWS .. CONFIG
  for (std::size_t t = 0; t < tile_config_.size(); ++t) {
    for (int k = 0; k < 4; ++k) pio(false, 4, tile_word_s_);  // ROWS .. CONFIG
    pio(true, 4, tile_word_s_);                               // IRQ_STATUS clear
    pio(true, 4, tile_word_s_);                               // IRQ_ENABLE
  }
  pio(true, 4, 0.0);  // sysctl IRQ_ENABLE
  // MetaPvUpdatePath::init: counters cleared, FORMAT and the level table read; per layer
  // the initial hidden weights written, the levels read back, every weight pushed to
  // pv_ctrl and programmed with program-and-verify like every later write.
  pio(true, 4, 0.0);
  pio(false, 4, meta_word_s_);
  pio(false, 4 * static_cast<std::uint64_t>(cfg_.meta.levels), meta_word_s_);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    auto& L = layers_[l];
    const std::uint64_t n = L.level.size();
    pio(true, 4 * n, meta_word_s_);  // HIDDEN
    push_layer(L);
  }
  pv_wait_idle();
}

void FunctionalAccelerator::push_layer(Layer& L) {
  pio(false, 4 * static_cast<std::uint64_t>(L.level.size()), meta_word_s_);  // LEVELS
  // The reference column (reference mapping) first, tile by tile, then the weights.
  const auto& blocks = L.grid->placement().blocks;
  for (std::size_t b = 0; b < L.ref_first.size(); ++b) {
    for (int r = 0; r < blocks[b].n_rows; ++r) {
      const double arrival = pv_push();
      const double start = pv_start(arrival);
      pv_free_ = start + program_reference(L, b, r, start);
      pv_queue_.push_back(start);
    }
  }
  const auto* lv = L.meta->levels();
  for (std::size_t i = 0; i < L.level.size(); ++i) {
    const double arrival = pv_push();
    const double start = pv_start(arrival);
    pv_free_ = start + program(L, i, lv[i], start);
    pv_queue_.push_back(start);
  }
}

std::uint64_t FunctionalAccelerator::refresh() {
  if (!timed()) return 0;                          // ideal weights: nothing relaxes
  for (int k = 0; k < 3; ++k) pio(false, 4, 0.0);  // CNT_PROGRAMMED, CNT_FAILED, CNT_PULSES
  const std::uint64_t before = pulses_;
  for (auto& L : layers_) {
    std::fill(L.level.begin(), L.level.end(), static_cast<std::int8_t>(-1));  // FORCE
    push_layer(L);
  }
  pv_wait_idle();
  for (int k = 0; k < 3; ++k) pio(false, 4, 0.0);
  return pulses_ - before;
}

void FunctionalAccelerator::mark_phase(bool begin, const char* name) {
  if (begin) {
    ledger_->begin_phase(name, t_);
  } else {
    ledger_->end_phase(t_);
  }
}

double FunctionalAccelerator::program(Layer& L, std::size_t index, int level, double at) {
  const auto out = L.shape.out;
  const int row = static_cast<int>(index / out);
  const int col = static_cast<int>(index % out);
  const auto loc = L.grid->locate(row, col);
  auto& tile = L.grid->tile(loc.tile);
  const std::size_t cell = tile.cell_index(loc.row, loc.col);
  const auto plan = pv::plan_weight_write(tile, L.level[index], level, cfg_.pv);
  const pv::PvCosts costs = pv_costs(tile);
  const bool ref_col = !L.ref_first.empty();
  double t = at;
  for (int k = 0; k < plan.count; ++k) {
    const auto& d = plan.devices[static_cast<std::size_t>(k)];
    const auto r =
        pv::program_verify(tile.array(d.side), cell, d.target_uS, d.band, cfg_.pv, t, costs);
    tile.mark_written(loc.row, loc.col);
    ++L.writes[ref_col ? index : 2 * index + (d.side == tile::Side::pos ? 0U : 1U)];
    t += r.duration_s;
    account_pv(r, costs);
  }
  L.level[index] = static_cast<std::int8_t>(level);
  return t - at;
}

double FunctionalAccelerator::pio(bool write, std::uint64_t bytes, double word_s) {
  const auto a = bus::pio_access(cfg_.bus, cfg_.host.burst_bytes, bytes, word_s);
  const double first =
      t_ + static_cast<double>(bus::transfer_cycles(
               cfg_.bus,
               std::min<std::uint64_t>(bytes, static_cast<std::uint64_t>(cfg_.host.burst_bytes)))) /
               (cfg_.bus.f_clk_MHz * 1e6);
  t_ += a.total_s();
  ledger_->charge(write ? e_bus_write_ : e_bus_read_, a.energy_J, a.transactions, a.bus_s);
  return first;
}

double FunctionalAccelerator::meta_cmd() { return pio(true, 4, meta_word_s_); }

void FunctionalAccelerator::meta_wait(double end) {
  const double seen = pio(false, 4, meta_word_s_);  // IRQ_STATUS
  if (seen < end) {
    t_ = std::max(t_, end);  // wait_irq until DONE, then IRQ_STATUS again
    pio(false, 4, meta_word_s_);
  }
  pio(true, 4, meta_word_s_);  // DONE cleared
}

void FunctionalAccelerator::pv_wait_idle() {
  const double seen = pio(false, 4, 0.0);  // STATUS
  if (seen < pv_free_) {
    t_ = std::max(t_, pv_free_);  // wait_irq until the queue drained (EMPTY)
    pio(true, 4, 0.0);            // IRQ_STATUS.EMPTY cleared
    pio(false, 4, 0.0);           // STATUS: idle
  }
  pio(true, 4, 0.0);  // IRQ_STATUS.EMPTY cleared
  pv_queue_.clear();
}

double FunctionalAccelerator::pv_start(double arrival) const {
  if (arrival >= pv_free_) return arrival + pv::idle_start_s(cfg_.pv.f_clk_MHz);
  return pv_free_;
}

double FunctionalAccelerator::pv_push() {
  const double seen = pio(false, 4, 0.0);  // STATUS
  // Commands still queued at `seen`: pushed, not yet started.
  std::size_t queued = 0;
  for (auto it = pv_queue_.rbegin(); it != pv_queue_.rend() && *it > seen; ++it) ++queued;
  if (queued >= static_cast<std::size_t>(cfg_.pv.queue_depth)) pv_wait_idle();
  for (int k = 0; k < 4; ++k) pio(true, 4, 0.0);  // CMD_TILE, CMD_ROW, CMD_COL, CMD_LEVEL
  return pio(true, 4, 0.0);                       // CMD_PUSH
}

double FunctionalAccelerator::program_reference(Layer& L, std::size_t block, int row, double at) {
  const auto& b = L.grid->placement().blocks[block];
  auto& tile = L.grid->tile(b.tile);
  const auto d = pv::plan_reference_write(tile.params(), cfg_.pv);
  const pv::PvCosts costs = pv_costs(tile);
  const auto r = pv::program_verify(tile.array(tile::Side::ref), static_cast<std::size_t>(row),
                                    d.target_uS, d.band, cfg_.pv, at, costs);
  tile.mark_reference_written();
  ++L.writes[L.level.size() + L.ref_first[block] + static_cast<std::size_t>(row)];
  account_pv(r, costs);
  return r.duration_s;
}

pv::PvCosts FunctionalAccelerator::pv_costs(const tile::TileCore& tile) const {
  // The tile's event costs, as the SystemC tile charges them on its programming port.
  const tile::OpCost cv = tile.verify_cost();
  const tile::OpCost cp = tile.pulse_cost();
  // pv.f_clk_MHz: the controller spends whole cycles on each event, as pv_ctrl does.
  return pv::clocked({cv.latency_s, cp.latency_s, cv.energy_total_J(), cp.energy_total_J()},
                     cfg_.pv.f_clk_MHz);
}

void FunctionalAccelerator::account_pv(const pv::PvResult& r, const pv::PvCosts& costs) {
  pulses_ += static_cast<std::uint64_t>(r.n_set + r.n_reset);
  pv_failures_ += r.success ? 0 : 1;
  // The total as one sum per device; the rows per operation, as pv_ctrl charges them.
  ledger_->charge_total(e_pv_, r.energy_j, 1);
  ledger_->charge_rows(e_pv_verify_, r.n_verify * costs.e_verify_J,
                       static_cast<std::uint64_t>(r.n_verify), r.n_verify * costs.t_verify_s);
  if (r.n_set > 0) {
    ledger_->charge_rows(e_pv_set_, r.n_set * costs.e_pulse_J, static_cast<std::uint64_t>(r.n_set),
                         r.n_set * costs.t_pulse_s);
  }
  if (r.n_reset > 0) {
    ledger_->charge_rows(e_pv_reset_, r.n_reset * costs.e_pulse_J,
                         static_cast<std::uint64_t>(r.n_reset), r.n_reset * costs.t_pulse_s);
  }
}

FunctionalAccelerator::~FunctionalAccelerator() = default;

meta::MetaEngine& FunctionalAccelerator::engine(int layer) {
  return *layers_[static_cast<std::size_t>(layer)].meta;
}

void FunctionalAccelerator::charge_energy(const tile::OpCost& c) {
  for (std::size_t p = 0; p < tile::kPhases; ++p) {
    if (c.energy_J[p] != 0) ledger_->charge(e_tile_[p], c.energy_J[p], 1);
  }
}

void FunctionalAccelerator::forward(int layer, const float* x, int batch, float* y) {
  auto& L = layers_[static_cast<std::size_t>(layer)];
  if (L.grid) {
    if (cfg_.tile.adc_range != "fixed" && batch > 0)
      profile_range(L, tile::Direction::forward, x, batch, false);
    const int buf = static_cast<int>(cfg_.tile.buffer_vectors);
    for (int s = 0; s < batch; s += buf) {
      const int n = std::min(buf, batch - s);
      if (dma_) {
        mvm_chunk_dma(L, false, x + static_cast<std::size_t>(s) * L.shape.in, n,
                      y + static_cast<std::size_t>(s) * L.shape.out, false);
      } else {
        mvm_chunk(L, false, x + static_cast<std::size_t>(s) * L.shape.in, n,
                  y + static_cast<std::size_t>(s) * L.shape.out, false);
      }
    }
    mvm_vectors_ += static_cast<std::uint64_t>(batch);
    return;
  }
  const auto in = static_cast<Eigen::Index>(L.shape.in);
  const auto out = static_cast<Eigen::Index>(L.shape.out);
  MapM(y, batch, out).noalias() = CMapM(x, batch, in) * L.w;
}

void FunctionalAccelerator::transpose(int layer, const float* d, int batch, float* y) {
  auto& L = layers_[static_cast<std::size_t>(layer)];
  if (L.grid) {
    // The DAC range is [-1, 1]: scale the errors, run signed transpose MVMs, scale back.
    const float mx =
        fw::scale_to_dac_range(d, static_cast<std::size_t>(batch) * L.shape.out, scratch_);
    if (cfg_.tile.adc_range != "fixed" && batch > 0)
      profile_range(L, tile::Direction::transpose, scratch_.data(), batch, true);
    const int buf = static_cast<int>(cfg_.tile.buffer_vectors);
    for (int s = 0; s < batch; s += buf) {
      const int n = std::min(buf, batch - s);
      const float* xs = scratch_.data() + static_cast<std::size_t>(s) * L.shape.out;
      float* ys = y + static_cast<std::size_t>(s) * L.shape.in;
      if (dma_) {
        mvm_chunk_dma(L, true, xs, n, ys, true);
      } else {
        mvm_chunk(L, true, xs, n, ys, true);
      }
    }
    fw::scale_back(y, static_cast<std::size_t>(batch) * L.shape.in, mx);
    mvm_vectors_ += static_cast<std::uint64_t>(batch);
    return;
  }
  const auto in = static_cast<Eigen::Index>(L.shape.in);
  const auto out = static_cast<Eigen::Index>(L.shape.out);
  MapM(y, batch, in).noalias() = CMapM(d, batch, out) * L.w.transpose();
}

void FunctionalAccelerator::run_chunk(Layer& L, bool transpose, const float* x, int n, float* y,
                                      bool signed_inputs, std::vector<double>& done,
                                      const std::function<double(int, std::size_t)>& start_of) {
  const auto& pl = L.grid->placement();
  const ChunkDims d = chunk_dims(pl, transpose, n, signed_inputs);
  const std::size_t xn = d.drive * d.nv;
  std::vector<float> xb(static_cast<std::size_t>(d.drive_blocks) * xn, 0.0F);
  std::vector<float>& out = ybufs_;
  out.assign(pl.blocks.size() * d.sense * d.nv, 0.0F);
  // 1. In the host's order: each tile's inputs and command (start_of: the host's writes
  // and their bus energy), so its start time.
  struct Job {
    int k;
    int db;
    double start;
  };
  std::vector<Job> jobs;
  jobs.reserve(pl.blocks.size());
  std::size_t c = 0;
  for (int db = 0; db < d.drive_blocks; ++db) {
    const std::size_t i0 = static_cast<std::size_t>(db) * d.drive;
    const std::size_t ni = std::min<std::size_t>(d.drive, d.in_dim - i0);
    float* xd = xb.data() + static_cast<std::size_t>(db) * xn;
    for (std::size_t v = 0; v < d.nv; ++v) std::copy_n(x + v * d.in_dim + i0, ni, xd + v * d.drive);
    for (int ob = 0; ob < d.other_blocks; ++ob, ++c) {
      const int k = transpose ? ob * pl.col_blocks + db : db * pl.col_blocks + ob;
      jobs.push_back({k, db, start_of(k, c)});
    }
  }
  // 2. The tiles' MVMs, independent of each other (each tile its own devices, caches and
  // random streams): on the pool (sim.threads), each at its own start time.
  std::vector<tile::OpCost> costs(jobs.size());
  pool().parallel_for(jobs.size(), [&](std::size_t j) {
    const Job& jb = jobs[j];
    auto& tile = L.grid->tile(pl.blocks[static_cast<std::size_t>(jb.k)].tile);
    const double at = std::round(jb.start * 1e12) * 1e-12;
    costs[j] = tile.mvm_batch(d.dir, xb.data() + static_cast<std::size_t>(jb.db) * xn, n,
                              out.data() + static_cast<std::size_t>(jb.k) * d.sense * d.nv, at,
                              tile.encoding(), signed_inputs);
  });
  // 3. Their energy, in the host's order again (the tile entries' sums are unchanged).
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    charge_energy(costs[j]);
    done[static_cast<std::size_t>(jobs[j].k)] = jobs[j].start + costs[j].latency_s;
  }
  sum_partials(pl, transpose, out.data(), d.sense, d.nv, d.out_dim, y);
}

void FunctionalAccelerator::mvm_chunk(Layer& L, bool transpose, const float* x, int n, float* y,
                                      bool signed_inputs) {
  const auto& pl = L.grid->placement();
  const ChunkDims d = chunk_dims(pl, transpose, n, signed_inputs);
  // Inputs, CONFIG (when it changes) and CMD per tile, in HalAccelerator's order; each
  // tile computes at its CMD (the relaxation clock, on the picosecond grid of sc_time) and
  // runs while the host writes the next.
  std::vector<double> done(pl.blocks.size(), 0.0);
  run_chunk(L, transpose, x, n, y, signed_inputs, done, [&](int k, std::size_t /*c*/) {
    auto& cfg_word = tile_config_[L.first_tile + static_cast<unsigned>(k)];
    if (cfg_word != d.config) {
      pio(true, 4, tile_word_s_);
      cfg_word = d.config;
    }
    pio(true, 4 * d.drive * d.nv, tile_word_s_);  // INPUT
    return pio(true, 4, tile_word_s_);            // CMD
  });
  wait_tiles(done, block_tiles(L.first_tile, pl));
  // A tile whose MVM had a conversion at a code limit showed IRQ_STATUS.ADC_SAT: the
  // firmware reads its ADC_SAT_COUNT (HalAccelerator::handle_saturation; the recovery,
  // faults.adc_sat_recover, is a hardware-mode policy).
  for (const auto& b : pl.blocks) {
    if (L.grid->tile(b.tile).last_saturated() > 0) pio(false, 4, tile_word_s_);
  }
  for (std::size_t k = 0; k < done.size(); ++k) pio(false, 4 * d.sense * d.nv, tile_word_s_);
}

// One descriptor of a chain the firmware builds: `count` 32-bit words (F32 or U32 copies,
// one row), from and to host memory (word time < 0) or a bus target with that time per
// word (tile: tile.f_clk_MHz, meta_unit: meta.f_clk_MHz).
struct FunctionalAccelerator::DmaDesc {
  std::uint32_t count{0};
  double src_word_s{-1.0};
  double dst_word_s{-1.0};
};

double FunctionalAccelerator::dma_chain(const std::vector<DmaDesc>& chain, double start,
                                        std::vector<double>* cmd_at) {
  // The engine's schedule (bus/dma_cost.hpp) with each access's contention-free time:
  // host memory's latency and bandwidth, or the bus transaction and the target's words.
  const auto& hm = cfg_.host_mem;
  const auto access = [&](bool write, double word_s, unsigned bytes, double& t) {
    if (word_s < 0) {
      const double s = bus::host_mem_access_ns(hm, bytes) * 1e-9;
      ledger_->charge(write ? e_hm_write_ : e_hm_read_,
                      static_cast<double>(bytes) * hm.e_byte_pJ * 1e-12, 1, s);
      t += s;
      return t;
    }
    const auto a = bus::pio_access(cfg_.bus, bytes, bytes, word_s);
    ledger_->charge(write ? e_bus_write_ : e_bus_read_, a.energy_J, a.transactions, a.bus_s);
    const double arrival = t + a.bus_s;
    t += a.total_s();
    return arrival;
  };
  struct Cursor {
    std::size_t i;
    std::uint32_t next;  // != 0 while a descriptor follows
  };
  const double clk = 1.0 / (cfg_.dma.f_clk_MHz * 1e6);
  double t_rd = start;
  double t_wr = start;
  const auto run = [&](const Cursor& c) {
    const DmaDesc& d = chain[c.i];
    bus::DmaGeometry g;
    g.count = d.count;
    const auto read = [&](const bus::DmaBurst& b, double& t) {
      access(false, d.src_word_s, b.src_len, t);
      return true;
    };
    const auto write = [&](const bus::DmaBurst& b, double& t) {
      const double arrival = access(true, d.dst_word_s, b.dst_len, t);
      if (cmd_at != nullptr) (*cmd_at)[c.i] = arrival;
      ledger_->charge(e_dma_beat_, (b.dst_len / 4) * cfg_.dma.e_beat_pJ * 1e-12, b.dst_len / 4);
      return true;
    };
    return bus::dma_descriptor(cfg_.dma, clk, g, t_rd, t_wr, read, write);
  };
  const auto fetch = [&](std::uint32_t, Cursor& c, double& t) {
    access(false, -1.0, 32, t);  // the next descriptor: 8 words of host memory
    c = Cursor{c.i + 1, c.i + 2 < chain.size() ? 1U : 0U};
    return true;
  };
  if (cmd_at != nullptr) cmd_at->assign(chain.size(), 0.0);
  bus::dma_chain(Cursor{0, chain.size() > 1 ? 1U : 0U}, t_rd, t_wr, run, fetch);
  const double end = std::max(t_rd, t_wr);
  ledger_->charge_rows(e_dma_transfer_, 0.0, 1, end - start);
  return end;
}

void FunctionalAccelerator::dma_start(const std::vector<DmaDesc>& chain,
                                      std::vector<double>* cmd_at) {
  pio(false, 4, 0.0);                             // STATUS
  for (int k = 0; k < 8; ++k) pio(true, 4, 0.0);  // SRC .. NEXT
  const double start = pio(true, 4, 0.0);         // CTRL.START: the chain begins here
  dma_ends_.push_back(dma_chain(chain, start, cmd_at));
  pio(false, 4, 0.0);  // STATUS (the driver's error check)
}

void FunctionalAccelerator::dma_run(const std::vector<DmaDesc>& descs,
                                    std::vector<double>* cmd_at) {
  if (descs.size() <= fw::kDmaChainMax) {
    dma_start(descs, cmd_at);
    dma_wait_idle();
    return;
  }
  if (cmd_at != nullptr) cmd_at->clear();
  std::vector<double> at;
  for (std::size_t i = 0; i < descs.size(); i += fw::kDmaChainMax) {
    const auto first = descs.begin() + static_cast<std::ptrdiff_t>(i);
    const auto n = static_cast<std::ptrdiff_t>(std::min(fw::kDmaChainMax, descs.size() - i));
    dma_start(std::vector<DmaDesc>(first, first + n), cmd_at != nullptr ? &at : nullptr);
    dma_wait_idle();
    if (cmd_at != nullptr) cmd_at->insert(cmd_at->end(), at.begin(), at.end());
  }
}

void FunctionalAccelerator::dma_wait_idle() {
  for (;;) {
    const double seen = pio(false, 4, 0.0);  // STATUS
    double next = 0;
    bool busy = false;
    bool fired = false;  // IRQ_STATUS.DONE set since the firmware last cleared it
    for (const double e : dma_ends_) {
      if (e > seen) busy = true;
      if (e > dma_irq_cleared_ && (!fired || e < next)) {
        next = e;
        fired = true;
      }
    }
    if (!busy) break;
    // DmaDriver::wait_event: only the DMA line routed to the host, wait for it, the
    // enable mask restored, IRQ_STATUS read and cleared.
    pio(false, 4, 0.0);
    pio(true, 4, 0.0);
    if (fired) t_ = std::max(t_, next);
    pio(true, 4, 0.0);
    pio(false, 4, 0.0);
    dma_irq_cleared_ = pio(true, 4, 0.0);
  }
  dma_ends_.clear();
}

void FunctionalAccelerator::mvm_chunk_dma(Layer& L, bool transpose, const float* x, int n, float* y,
                                          bool signed_inputs) {
  const auto& pl = L.grid->placement();
  const ChunkDims d = chunk_dims(pl, transpose, n, signed_inputs);
  // HalAccelerator::mvm_chunk_dma: CONFIG per tile (when it changes) while staging the
  // inputs, then one chain writing each tile's INPUT window and its CMD (a tile starts at
  // its CMD's arrival), waited for; the tiles waited for; one chain reading every OUTPUT.
  std::vector<DmaDesc> chain;
  for (int db = 0; db < d.drive_blocks; ++db) {
    for (int ob = 0; ob < d.other_blocks; ++ob) {
      const int k = transpose ? ob * pl.col_blocks + db : db * pl.col_blocks + ob;
      auto& cfg_word = tile_config_[L.first_tile + static_cast<unsigned>(k)];
      if (cfg_word != d.config) {
        pio(true, 4, tile_word_s_);
        cfg_word = d.config;
      }
      chain.push_back({static_cast<std::uint32_t>(d.drive * d.nv), -1.0, tile_word_s_});  // INPUT
      chain.push_back({1, -1.0, tile_word_s_});                                           // CMD
    }
  }
  // One chain: started, the tiles' MVMs from their CMDs' arrivals, waited for (the
  // firmware's DmaDriver::run). More descriptors than a chain holds: each chain run to
  // its end first (the MVMs still start at their CMDs' arrivals).
  const bool one_chain = chain.size() <= fw::kDmaChainMax;
  std::vector<double> arrival;
  if (one_chain) {
    dma_start(chain, &arrival);
  } else {
    dma_run(chain, &arrival);
  }
  std::vector<double> done(pl.blocks.size(), 0.0);
  run_chunk(L, transpose, x, n, y, signed_inputs, done,
            [&](int /*k*/, std::size_t c) { return arrival[2 * c + 1]; });
  if (one_chain) dma_wait_idle();
  wait_tiles(done, block_tiles(L.first_tile, pl));
  for (const auto& b : pl.blocks) {
    if (L.grid->tile(b.tile).last_saturated() > 0) pio(false, 4, tile_word_s_);
  }
  chain.assign(pl.blocks.size(), {static_cast<std::uint32_t>(d.sense * d.nv), tile_word_s_, -1.0});
  dma_run(chain);
}

void FunctionalAccelerator::wait_tiles(const std::vector<double>& done,
                                       const std::vector<unsigned>& tile) {
  // HalAccelerator::wait_tiles: one read of sysctl's pending-tile word (TILE_IRQ_LO,
  // TILE_IRQ_HI, then the TILE_IRQ window) per 32 tiles with a tile still waited on, in
  // word order, each seeing the tiles done by its own arrival; then per tile that
  // finished IRQ_STATUS read and cleared; the wait for the next DONE when none has.
  std::vector<bool> pending(done.size(), true);
  std::vector<bool> fired(done.size(), false);
  std::vector<unsigned> words;
  std::size_t left = done.size();
  while (left > 0) {
    words.clear();
    for (std::size_t k = 0; k < done.size(); ++k)
      if (pending[k]) words.push_back(tile[k] / 32);
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    bool any = false;
    for (const unsigned w : words) {
      const double seen = pio(false, 4, 0.0);
      for (std::size_t k = 0; k < done.size(); ++k) {
        if (pending[k] && tile[k] / 32 == w && done[k] <= seen) {
          fired[k] = true;
          any = true;
        }
      }
    }
    if (!any) {
      double next = 0;
      bool have_next = false;
      for (std::size_t k = 0; k < done.size(); ++k) {
        if (pending[k] && (!have_next || done[k] < next)) {
          next = done[k];
          have_next = true;
        }
      }
      t_ = std::max(t_, next);
      continue;
    }
    for (std::size_t k = 0; k < done.size(); ++k) {
      if (!fired[k]) continue;
      pio(false, 4, tile_word_s_);  // IRQ_STATUS
      pio(true, 4, tile_word_s_);   // IRQ_STATUS cleared
      fired[k] = false;
      pending[k] = false;
      --left;
    }
  }
}

// tile.adc_range = profile_*: before the first MVM of a layer and direction, a profiling
// read of its first chunk (tile.buffer_vectors vectors, as the firmware's) and the range
// chosen from the histograms, as HalAccelerator::profile_range does.
void FunctionalAccelerator::profile_range(Layer& L, tile::Direction dir, const float* x, int batch,
                                          bool signed_inputs) {
  auto& g = *L.grid;
  if (g.tile(0).adc_range_steps(dir) != 0) return;  // profiled (also after a restore)
  const int n = std::min(batch, static_cast<int>(cfg_.tile.buffer_vectors));
  // The profiling read: its energy, and its time on the host's clock (the firmware's
  // INPUT writes, PROFILE window reads and ADC_RANGE writes are not charged here).
  const tile::OpCost pc = g.profile_batch(dir, x, n, t_, signed_inputs);
  charge_energy(pc);
  t_ += pc.latency_s;
  const double pct = cfg_.tile.adc_range_percentile;
  const std::size_t bins = g.tile(0).adc_profile(dir).size();
  std::vector<std::uint64_t> sum(bins, 0);
  std::vector<std::uint32_t> steps(static_cast<std::size_t>(g.n_tiles()), 0);
  for (int t = 0; t < g.n_tiles(); ++t) {
    const auto& h = g.tile(t).adc_profile(dir);
    std::vector<std::uint64_t> one(h.begin(), h.end());
    for (std::size_t b = 0; b < bins; ++b) sum[b] += h[b];
    steps[static_cast<std::size_t>(t)] = fw::adc_range_steps(one.data(), bins, pct);
  }
  const std::uint32_t layer_steps = fw::adc_range_steps(sum.data(), bins, pct);
  const bool per_layer =
      fw::parse_adc_range(cfg_.tile.adc_range) == fw::AdcRangeMode::profile_layer;
  for (int t = 0; t < g.n_tiles(); ++t) {
    const std::uint32_t v = per_layer ? layer_steps : steps[static_cast<std::size_t>(t)];
    g.tile(t).set_adc_range_steps(dir, static_cast<int>(v != 0 ? v : std::max(layer_steps, 1U)));
  }
}

void FunctionalAccelerator::read_weights(int layer, float* w) {
  const auto& L = layers_[static_cast<std::size_t>(layer)];
  if (timed()) pio(false, 4 * L.shape.in * L.shape.out, meta_word_s_);  // LEVELS
  std::copy(L.w.data(), L.w.data() + L.w.size(), w);
}

void FunctionalAccelerator::accumulate(int layer, const float* grad) {
  auto& L = layers_[static_cast<std::size_t>(layer)];
  if (dma_) {
    // MetaDriver::write_grad: the gradient in host memory, a chain to the GRAD window
    // (descriptors of at most 2^18 words), started, not waited for.
    constexpr std::uint64_t kPerDesc = 1U << 18U;
    const std::uint64_t n = L.shape.in * L.shape.out;
    std::vector<DmaDesc> chain;
    for (std::uint64_t i = 0; i < n; i += kPerDesc)
      chain.push_back({static_cast<std::uint32_t>(std::min(kPerDesc, n - i)), -1.0, meta_word_s_});
    dma_start(chain);
  } else if (timed()) {
    pio(true, 4 * L.shape.in * L.shape.out, meta_word_s_);  // GRAD
  }
  L.meta->accumulate(grad, L.shape.in * L.shape.out);
}

void FunctionalAccelerator::charge_meta_sram(double accesses) {
  ledger_->charge(e_meta_sram_, cfg_.meta.e_sram_access_pJ * 1e-12 * accesses,
                  static_cast<std::uint64_t>(std::ceil(accesses)));
}

std::uint64_t FunctionalAccelerator::meta_weights() const {
  std::uint64_t n = 0;
  for (const auto& L : layers_) n += L.shape.in * L.shape.out;
  return n;
}

std::size_t FunctionalAccelerator::update() {
  const std::uint64_t n = meta_weights();
  const auto& mp = cfg_.meta;
  ledger_->charge(e_meta_acc_, mp.e_accumulate_pJ * 1e-12 * static_cast<double>(n), n);
  charge_meta_sram(meta::sram_accesses_accumulate(mp, n));
  ledger_->charge(e_meta_update_, mp.e_update_pJ * 1e-12 * static_cast<double>(n), n);
  charge_meta_sram(meta::sram_accesses_step(mp, n));
  // MetaPvUpdatePath::update: ACCUMULATE, then STEP, whose level changes leave the
  // pipeline at ready_cycle and cross the command path to pv_ctrl, which programs them in
  // order; the firmware waits for meta_unit, reads CHANGES_COUNT, waits for pv_ctrl.
  double step_start = t_;
  double path_free = 0;
  double path_s = 0;
  if (timed()) {
    if (dma_) dma_wait_idle();  // MetaDriver::run: the gradients are in the GRAD window
    if (!meta_n_written_) {
      pio(true, 4, meta_word_s_);  // N_WEIGHTS
      meta_n_written_ = true;
    }
    const double acc_start = meta_cmd();
    meta_wait(acc_start + static_cast<double>(meta::op_cycles(mp, n)) * meta_clk_s_);
    if (dma_) dma_wait_idle();
    step_start = meta_cmd();
    path_s = cfg_.pv.cmd_path == "link"
                 ? cfg_.pv.link_latency_ns * 1e-9
                 : bus::pio_access(cfg_.bus, cfg_.host.burst_bytes, 8, 0.0).bus_s;
    path_free = step_start;
  }
  std::size_t total = 0;
  for (auto& L : layers_) {
    changes_.clear();
    L.meta->step(changes_);
    for (const auto& c : changes_) {
      L.w.data()[c.index] = L.meta->level_value(c.level);
      if (L.grid) {
        const double ready =
            step_start +
            static_cast<double>(meta::ready_cycle(mp, L.first_weight + c.index)) * meta_clk_s_;
        const double sent = std::max(ready, path_free);
        path_free = sent + path_s;
        if (cfg_.pv.cmd_path == "link") {
          ledger_->charge(e_path_, cfg_.pv.link_energy_pJ * 1e-12, 1);
        } else {
          ledger_->charge(e_path_, cfg_.pv.bus_cmd_energy_pJ * 1e-12, 1);
          const auto a = bus::pio_access(cfg_.bus, cfg_.host.burst_bytes, 8, 0.0);
          ledger_->charge(e_bus_write_, a.energy_J, a.transactions, a.bus_s);
        }
        const double start = pv_start(path_free);
        pv_free_ = start + program(L, c.index, c.level, start);
      } else {
        ++L.writes[c.index];
      }
    }
    total += changes_.size();
  }
  if (timed()) {
    meta_wait(std::max(step_start + static_cast<double>(meta::op_cycles(mp, n)) * meta_clk_s_,
                       path_free));
    pio(false, 4, meta_word_s_);  // CHANGES_COUNT
    if (total != 0) pv_wait_idle();
  }
  level_changes_ += total;
  return total;
}

void FunctionalAccelerator::readback() {
  if (!timed()) return;
  ledger_->begin_phase("readback", t_);
  for (const auto& L : layers_) pio(false, 4 * L.shape.in * L.shape.out, meta_word_s_);  // HIDDEN
  ledger_->end_phase(t_);
}

void FunctionalAccelerator::new_task() {
  charge_meta_sram(meta::sram_accesses_new_task(cfg_.meta, meta_weights()));
  if (timed()) {
    if (dma_) dma_wait_idle();
    if (!meta_n_written_) {
      pio(true, 4, meta_word_s_);  // N_WEIGHTS
      meta_n_written_ = true;
    }
    const double start = meta_cmd();
    meta_wait(start +
              static_cast<double>(meta::sweep_cycles(cfg_.meta, meta_weights())) * meta_clk_s_);
  }
  for (auto& L : layers_) L.meta->new_task();
}

void FunctionalAccelerator::host_compute(std::uint64_t macs, std::uint64_t ops) {
  const auto& h = cfg_.host;
  t_ +=
      (static_cast<double>(macs) / h.macs_per_cycle + static_cast<double>(ops) / h.ops_per_cycle) /
      (h.f_clk_MHz * 1e6);
  ledger_->charge_total(
      e_host_,
      (static_cast<double>(macs) * h.e_mac_pJ + static_cast<double>(ops) * h.e_op_pJ) * 1e-12, 1);
  if (macs > 0) {
    ledger_->charge_rows(e_host_mac_, static_cast<double>(macs) * h.e_mac_pJ * 1e-12, macs,
                         static_cast<double>(macs) / h.macs_per_cycle / (h.f_clk_MHz * 1e6));
  }
  if (ops > 0) {
    ledger_->charge_rows(e_host_op_, static_cast<double>(ops) * h.e_op_pJ * 1e-12, ops,
                         static_cast<double>(ops) / h.ops_per_cycle / (h.f_clk_MHz * 1e6));
  }
}

fw::AccelStats FunctionalAccelerator::stats() const {
  fw::AccelStats s;
  for (const auto& L : layers_) {
    s.writes_per_device.insert(s.writes_per_device.end(), L.writes.begin(), L.writes.end());
  }
  s.level_changes = level_changes_;
  s.pv_failures = pv_failures_;
  s.mvm_vectors = mvm_vectors_;
  for (const auto& L : layers_) {
    if (!L.grid) continue;
    for (int t = 0; t < L.grid->n_tiles(); ++t) {
      auto& tile = L.grid->tile(t);
      s.devices_allocated += tile.device_count();
      s.device_state_bytes += tile.device_state_bytes();
      s.tile_cache_bytes += tile.cache_bytes();
      const bool diff = tile.mapping() == tile::Mapping::differential;
      for (auto side : {tile::Side::pos, diff ? tile::Side::neg : tile::Side::ref}) {
        const auto& dev = tile.array(side);
        for (std::size_t i = 0; i < dev.size(); ++i) s.pulses_per_device.push_back(dev.pulses(i));
      }
    }
  }
  s.energy_total = ledger_->total();
  s.energy_by_component = ledger_->by_component(false);
  s.energy_csv = ledger_->csv();
  s.endurance_budget_median = cfg_.device.endurance_median;
  std::vector<tile::LayerTiles> views;
  for (const auto& L : layers_) {
    if (!L.grid) continue;
    tile::TileGrid* g = L.grid.get();
    views.push_back({&g->placement(), [g](int t) -> const tile::TileCore& { return g->tile(t); },
                     L.level.data()});
  }
  if (!views.empty()) s.histograms_json = tile::histograms_json(views, cfg_.tile, t_);
  if (!views.empty() && cfg_.tile.adc_range != "fixed")
    s.adc_profile_json = tile::adc_profile_json(views, cfg_.tile);
  return s;
}

std::uint64_t FunctionalAccelerator::memory_hidden_bits() const {
  std::uint64_t b = 0;
  for (const auto& L : layers_) b += L.meta->memory_bits().hidden;
  return b;
}
std::uint64_t FunctionalAccelerator::memory_optimizer_bits() const {
  std::uint64_t b = 0;
  for (const auto& L : layers_) b += L.meta->memory_bits().optimizer;
  return b;
}
std::uint64_t FunctionalAccelerator::memory_stored_bits() const {
  std::uint64_t b = 0;
  for (const auto& L : layers_) b += L.meta->memory_bits().stored;
  return b;
}

void FunctionalAccelerator::load_hidden(int layer, const float* w) {
  auto& L = layers_[static_cast<std::size_t>(layer)];
  const std::size_t n = L.shape.in * L.shape.out;
  for (std::size_t i = 0; i < n; ++i) L.meta->set_hidden(i, w[i]);
  const auto* lv = L.meta->levels();
  for (std::size_t i = 0; i < n; ++i) {
    L.w.data()[i] = L.meta->level_value(lv[i]);
    if (L.grid && L.level[i] != lv[i]) t_ += program(L, i, lv[i], t_);
  }
}

void FunctionalAccelerator::state_io(StateIO& io) {
  io.section("functional");
  for (auto& L : layers_) {
    io.section("layer");
    L.meta->state_io(io);
    io.array("w", L.w.data(), static_cast<std::uint64_t>(L.w.size()));
    io.vec("writes", L.writes);
    io.vec("level", L.level);
    if (L.grid) {
      for (int t = 0; t < L.grid->n_tiles(); ++t) L.grid->tile(t).state_io(io);
    }
  }
  ledger_->state_io(io);
  io.value("t", t_);
  io.value("pv_free", pv_free_);
  io.vec("tile_config", tile_config_);
  std::uint32_t n_written = meta_n_written_ ? 1U : 0U;
  io.value("meta_n_written", n_written);
  meta_n_written_ = n_written != 0;
  io.value("pulses", pulses_);
  io.value("pv_failures", pv_failures_);
  io.value("mvm_vectors", mvm_vectors_);
  io.value("level_changes", level_changes_);
  if (dma_) io.value("dma_irq_cleared", dma_irq_cleared_);  // chains: none at a checkpoint
}

}  // namespace memplast::functional
