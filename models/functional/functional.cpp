#include "functional/functional.hpp"

#include <cmath>

#include <Eigen/Dense>

#include "common/energy.hpp"
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
}  // namespace

struct FunctionalAccelerator::Layer {
  fw::LayerShape shape{};
  std::unique_ptr<meta::MetaEngine> meta;
  Mat w;  // quantized weight values (in x out): the ideal weights, and the digital view
  // Device mode: the layer on a grid of tiles; writes per device are counted per
  // weight and side (pos = 2i, neg = 2i+1).
  std::unique_ptr<tile::TileGrid> grid;
  std::vector<std::uint32_t> writes;
  std::vector<std::int8_t> level;  // level currently programmed in the devices
};

FunctionalAccelerator::FunctionalAccelerator(const Config& cfg,
                                             std::array<fw::LayerShape, 2> shapes)
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
  // The initial programming below is the firmware's "init" phase of the hardware mode.
  ledger_->begin_phase("init", t_);
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    Layer L;
    L.shape = shapes[l];
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
      L.writes.assign(2 * n, 0);
      L.level.assign(n, -1);
    } else {
      L.writes.assign(n, 0);
    }
    layers_.push_back(std::move(L));
  }
  if (cfg.train.device_effects) {
    // Initial weights written with program-and-verify like every later write.
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      auto& L = layers_[l];
      const auto* lv = L.meta->levels();
      for (std::size_t i = 0; i < L.level.size(); ++i) program(L, i, lv[i]);
    }
    // tile.adc_calibration = startup: every tile's ADC trim, all tiles in parallel (as the
    // firmware starts ADC_TRIM on every tile and waits for all).
    if (cfg.tile.adc_calibration == "startup") {
      tile::OpCost all;
      for (auto& L : layers_) {
        for (int t = 0; t < L.grid->n_tiles(); ++t) {
          const tile::OpCost c = L.grid->tile(t).calibrate_adc_trim();
          const double lat = std::max(all.latency_s, c.latency_s);
          all += c;
          all.latency_s = lat;
        }
      }
      charge(all);
    }
  }
  ledger_->end_phase(t_);
}

void FunctionalAccelerator::mark_phase(bool begin, const char* name) {
  if (begin) {
    ledger_->begin_phase(name, t_);
  } else {
    ledger_->end_phase(t_);
  }
}

void FunctionalAccelerator::program(Layer& L, std::size_t index, int level) {
  const auto out = L.shape.out;
  const int row = static_cast<int>(index / out);
  const int col = static_cast<int>(index % out);
  const auto loc = L.grid->locate(row, col);
  auto& tile = L.grid->tile(loc.tile);
  const std::size_t cell = tile.cell_index(loc.row, loc.col);
  const auto plan = pv::plan_weight_write(tile, L.level[index], level, cfg_.pv);
  // The tile's event costs, as the SystemC tile charges them on its programming port.
  const tile::OpCost cv = tile.verify_cost();
  const tile::OpCost cp = tile.pulse_cost();
  const pv::PvCosts costs{cv.latency_s, cp.latency_s, cv.energy_total_J(), cp.energy_total_J()};
  for (int k = 0; k < plan.count; ++k) {
    const auto& d = plan.devices[static_cast<std::size_t>(k)];
    const auto r =
        pv::program_verify(tile.array(d.side), cell, d.target_uS, d.band, cfg_.pv, t_, costs);
    tile.mark_written(loc.row, loc.col);
    ++L.writes[2 * index + (d.side == tile::Side::pos ? 0U : 1U)];
    pulses_ += static_cast<std::uint64_t>(r.n_set + r.n_reset);
    pv_failures_ += r.success ? 0 : 1;
    t_ += r.duration_s;
    // The total as one sum per device; the rows per operation, as pv_ctrl charges them.
    ledger_->charge_total(e_pv_, r.energy_j, 1);
    ledger_->charge_rows(e_pv_verify_, r.n_verify * costs.e_verify_J,
                         static_cast<std::uint64_t>(r.n_verify), r.n_verify * costs.t_verify_s);
    if (r.n_set > 0) {
      ledger_->charge_rows(e_pv_set_, r.n_set * costs.e_pulse_J,
                           static_cast<std::uint64_t>(r.n_set), r.n_set * costs.t_pulse_s);
    }
    if (r.n_reset > 0) {
      ledger_->charge_rows(e_pv_reset_, r.n_reset * costs.e_pulse_J,
                           static_cast<std::uint64_t>(r.n_reset), r.n_reset * costs.t_pulse_s);
    }
  }
  L.level[index] = static_cast<std::int8_t>(level);
}

FunctionalAccelerator::~FunctionalAccelerator() = default;

meta::MetaEngine& FunctionalAccelerator::engine(int layer) {
  return *layers_[static_cast<std::size_t>(layer)].meta;
}

void FunctionalAccelerator::charge(const tile::OpCost& c) {
  t_ += c.latency_s;
  for (std::size_t p = 0; p < tile::kPhases; ++p) {
    if (c.energy_J[p] != 0) ledger_->charge(e_tile_[p], c.energy_J[p], 1);
  }
}

void FunctionalAccelerator::forward(int layer, const float* x, int batch, float* y) {
  auto& L = layers_[static_cast<std::size_t>(layer)];
  if (L.grid) {
    if (cfg_.tile.adc_range != "fixed" && batch > 0)
      profile_range(L, tile::Direction::forward, x, batch, false);
    charge(L.grid->forward_batch(x, batch, y, t_, false));
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
    charge(L.grid->transpose_batch(scratch_.data(), batch, y, t_, true));
    fw::scale_back(y, static_cast<std::size_t>(batch) * L.shape.in, mx);
    mvm_vectors_ += static_cast<std::uint64_t>(batch);
    return;
  }
  const auto in = static_cast<Eigen::Index>(L.shape.in);
  const auto out = static_cast<Eigen::Index>(L.shape.out);
  MapM(y, batch, in).noalias() = CMapM(d, batch, out) * L.w.transpose();
}

// tile.adc_range = profile_*: before the first MVM of a layer and direction, a profiling
// read of its first chunk (tile.buffer_vectors vectors, as the firmware's) and the range
// chosen from the histograms, as HalAccelerator::profile_range does.
void FunctionalAccelerator::profile_range(Layer& L, tile::Direction dir, const float* x, int batch,
                                          bool signed_inputs) {
  auto& g = *L.grid;
  if (g.tile(0).adc_range_steps(dir) != 0) return;  // profiled (also after a restore)
  const int n = std::min(batch, static_cast<int>(cfg_.tile.buffer_vectors));
  charge(g.profile_batch(dir, x, n, t_, signed_inputs));
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
  std::copy(L.w.data(), L.w.data() + L.w.size(), w);
}

void FunctionalAccelerator::accumulate(int layer, const float* grad) {
  auto& L = layers_[static_cast<std::size_t>(layer)];
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
  std::size_t total = 0;
  for (auto& L : layers_) {
    changes_.clear();
    L.meta->step(changes_);
    for (const auto& c : changes_) {
      L.w.data()[c.index] = L.meta->level_value(c.level);
      if (L.grid) {
        program(L, c.index, c.level);
      } else {
        ++L.writes[c.index];
      }
    }
    total += changes_.size();
  }
  level_changes_ += total;
  return total;
}

void FunctionalAccelerator::new_task() {
  charge_meta_sram(meta::sram_accesses_new_task(cfg_.meta, meta_weights()));
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
      for (auto side : {tile::Side::pos, tile::Side::neg}) {
        if (side == tile::Side::neg && tile.mapping() != tile::Mapping::differential) continue;
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
    if (L.grid && L.level[i] != lv[i]) program(L, i, lv[i]);
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
  io.value("pulses", pulses_);
  io.value("pv_failures", pv_failures_);
  io.value("mvm_vectors", mvm_vectors_);
  io.value("level_changes", level_changes_);
}

}  // namespace memplast::functional
