#include "system/direct_update.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "meta/meta_cost.hpp"
#include "meta/meta_init.hpp"

namespace memplast::system {

DirectUpdatePath::DirectUpdatePath(const Config& cfg, std::array<fw::LayerShape, 2> shapes,
                                   std::array<std::vector<tile::TileModule*>, 2> tiles,
                                   std::array<tile::Placement, 2> placement, hal::Hal& hal,
                                   EnergyLedger& ledger)
    : cfg_(cfg), hal_(hal), ledger_(ledger) {
  if (cfg.train.device_effects) {
    throw std::logic_error(
        "DirectUpdatePath is the ideal-device path; train.device_effects is set");
  }
  e_update_ = ledger_.entry("meta_unit", "update");
  e_acc_ = ledger_.entry("meta_unit", "accumulate");
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    Layer L;
    L.shape = shapes[l];
    const std::size_t n = shapes[l].in * shapes[l].out;
    // Same streams and order as FunctionalAccelerator: identical initial hidden weights.
    L.meta = meta::make_fixed(cfg.meta, n);
    meta::init_layer(*L.meta, static_cast<std::uint64_t>(cfg.sim.seed), l,
                     cfg.train.init_half_range);
    L.w.resize(n);
    meta::level_values(*L.meta, L.w.data());
    L.writes.assign(n, 0);
    L.tiles = std::move(tiles[l]);
    L.placement = std::move(placement[l]);
    layers_.push_back(std::move(L));
  }
}

void DirectUpdatePath::charge_time(double seconds) {
  const double f_hz = cfg_.host.f_clk_MHz * 1e6;
  pending_s_ += seconds;
  const auto cycles = static_cast<std::uint64_t>(std::floor(pending_s_ * f_hz));
  if (cycles == 0) return;
  pending_s_ -= static_cast<double>(cycles) / f_hz;
  hal_.advance(cycles);
}

void DirectUpdatePath::program(Layer& L, std::size_t index, int level, double t_s) {
  const auto out = L.shape.out;
  const int row = static_cast<int>(index / out);
  const int col = static_cast<int>(index % out);
  const auto loc = L.placement.locate(row, col);
  L.tiles[static_cast<std::size_t>(loc.tile)]->core().program_ideal(loc.row, loc.col, level, t_s);
}

void DirectUpdatePath::init() {
  const double t = now_s();
  for (auto& L : layers_) {
    const auto* lv = L.meta->levels();
    for (std::size_t i = 0; i < L.w.size(); ++i) program(L, i, lv[i], t);
  }
}

void DirectUpdatePath::read_weights(int layer, float* w) {
  const auto& L = layers_[static_cast<std::size_t>(layer)];
  std::copy(L.w.begin(), L.w.end(), w);
}

void DirectUpdatePath::accumulate(int layer, const float* grad) {
  auto& L = layers_[static_cast<std::size_t>(layer)];
  const std::size_t n = L.shape.in * L.shape.out;
  L.meta->accumulate(grad, n);
  const auto& m = cfg_.meta;
  ledger_.charge(e_acc_, static_cast<double>(n) * m.e_accumulate_pJ * 1e-12, n);
  charge_time(static_cast<double>(meta::sweep_cycles(m, n)) / (m.f_clk_MHz * 1e6));
}

std::size_t DirectUpdatePath::update() {
  const auto& m = cfg_.meta;
  const double t0 = now_s();
  double t = t0;
  std::size_t total = 0;
  for (auto& L : layers_) {
    const std::size_t n = L.shape.in * L.shape.out;
    t += static_cast<double>(meta::op_cycles(m, n)) / (m.f_clk_MHz * 1e6);
    ledger_.charge(e_update_, static_cast<double>(n) * m.e_update_pJ * 1e-12, n);
    changes_.clear();
    L.meta->step(changes_);
    for (const auto& c : changes_) {
      L.w[c.index] = L.meta->level_value(c.level);
      ++L.writes[c.index];
      program(L, c.index, c.level, t);
    }
    total += changes_.size();
  }
  charge_time(t - t0);
  return total;
}

void DirectUpdatePath::new_task() {
  for (auto& L : layers_) L.meta->new_task();
}

std::vector<std::uint32_t> DirectUpdatePath::writes_per_device() const {
  std::vector<std::uint32_t> w;
  for (const auto& L : layers_) w.insert(w.end(), L.writes.begin(), L.writes.end());
  return w;
}

std::uint64_t DirectUpdatePath::memory_hidden_bits() const {
  std::uint64_t b = 0;
  for (const auto& L : layers_) b += L.meta->memory_bits().hidden;
  return b;
}
std::uint64_t DirectUpdatePath::memory_optimizer_bits() const {
  std::uint64_t b = 0;
  for (const auto& L : layers_) b += L.meta->memory_bits().optimizer;
  return b;
}
std::uint64_t DirectUpdatePath::memory_stored_bits() const {
  std::uint64_t b = 0;
  for (const auto& L : layers_) b += L.meta->memory_bits().stored;
  return b;
}

}  // namespace memplast::system
