#include "sw/drivers/hal_accelerator.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "fw/dac_scale.hpp"
#include "sw/include/memplast_regs.h"

namespace memplast::drivers {

HalAccelerator::HalAccelerator(hal::Hal& hal, std::vector<fw::LayerShape> shapes,
                               UpdatePath& update, unsigned irq_line, DmaDriver* dma)
    : hal_(hal), update_(update), irq_line_(irq_line), dma_(dma) {
  // The geometry (sysctl's registers, timed reads), then tile 0's registers.
  geo_ = discover(hal_);
  TileDriver t0(hal_, 0, geo_.tile_addr(0));
  R_ = t0.rows();
  C_ = t0.cols();
  buf_ = t0.buf_vectors();
  if (R_ != geo_.tile_rows || C_ != geo_.tile_cols) {
    throw std::runtime_error("sysctl.TILE_ROWS x TILE_COLS = " + std::to_string(geo_.tile_rows) +
                             " x " + std::to_string(geo_.tile_cols) + ", tile0.ROWS x COLS = " +
                             std::to_string(R_) + " x " + std::to_string(C_));
  }
  const unsigned next = geo_.require({shapes.begin(), shapes.end()});
  unsigned first = 0;
  layers_.resize(shapes.size());
  profiled_.assign(shapes.size(), {0, 0});
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    auto& L = layers_[l];
    L.shape = shapes[l];
    L.row_blocks = static_cast<int>((shapes[l].in + R_ - 1) / R_);
    L.col_blocks = static_cast<int>((shapes[l].out + C_ - 1) / C_);
    L.first_tile = first;
    first += static_cast<unsigned>(L.row_blocks * L.col_blocks);
  }
  tiles_.reserve(next);
  for (unsigned i = 0; i < next; ++i) {
    tiles_.emplace_back(hal_, i, geo_.tile_addr(i));
    if (tiles_.back().rows() != R_ || tiles_.back().cols() != C_ ||
        tiles_.back().buf_vectors() != buf_) {
      throw std::runtime_error("tile" + std::to_string(i) + ": geometry differs from tile0's");
    }
    tiles_.back().clear_irq(MP_TILE_IRQ_STATUS_DONE_MASK | MP_TILE_IRQ_STATUS_ERROR_MASK);
    tiles_.back().enable_irq(MP_TILE_IRQ_ENABLE_DONE_MASK | MP_TILE_IRQ_ENABLE_ERROR_MASK);
  }
  out_scale_.assign(tiles_.size(), 1.0F);
  hal_.write32(MP_SYSCTL_BASE + MP_SYSCTL_IRQ_ENABLE, MP_SYSCTL_IRQ_ENABLE_TILE_MASK |
                                                          MP_SYSCTL_IRQ_ENABLE_PV_MASK |
                                                          MP_SYSCTL_IRQ_ENABLE_META_MASK);
  if (dma_ != nullptr) {
    // Staging: the largest layer's inputs (drive blocks x tile inputs x buffer depth) and
    // outputs (tiles x tile outputs x buffer depth), for both directions.
    std::size_t in_words = 0;
    std::size_t out_words = 0;
    for (const auto& L : layers_) {
      const auto blocks = static_cast<std::size_t>(std::max(L.row_blocks, L.col_blocks));
      const auto tiles = static_cast<std::size_t>(L.row_blocks * L.col_blocks);
      in_words = std::max(in_words, blocks * std::max(R_, C_) * buf_);
      out_words = std::max(out_words, tiles * std::max(R_, C_) * buf_);
    }
    dma_in_ = dma_->alloc(in_words * 4);
    dma_out_ = dma_->alloc(out_words * 4);
  }
  update_.init();
}

unsigned HalAccelerator::tile_index(const LayerMap& L, int rb, int cb) {
  return L.first_tile + static_cast<unsigned>(rb * L.col_blocks + cb);
}

unsigned HalAccelerator::tile_of(int layer, int rb, int cb) const {
  return tile_index(layers_[static_cast<std::size_t>(layer)], rb, cb);
}

TileSet HalAccelerator::wait_tiles(TileSet pending) {
  TileSet saturated(tiles_.size());
  TileSet fired(tiles_.size());
  while (pending.any()) {
    // sysctl's pending-tile words for the tiles waited on: TILE_IRQ_LO (tiles 0..31),
    // TILE_IRQ_HI (32..63), then the TILE_IRQ window's words.
    fired.clear();
    for (std::size_t k = 0; k < 2 * pending.words(); ++k) {
      if (pending.word32(k) == 0) continue;
      const std::uint32_t off = k == 0   ? MP_SYSCTL_TILE_IRQ_LO
                                : k == 1 ? MP_SYSCTL_TILE_IRQ_HI
                                         : MP_SYSCTL_TILE_IRQ_OFFSET + 4 * static_cast<unsigned>(k);
      fired.or_word32(k, hal_.read32(MP_SYSCTL_BASE + off));
    }
    fired &= pending;
    if (!fired.any()) {
      hal_.wait_irq(1U << irq_line_);
      continue;
    }
    fired.for_each([&](unsigned t) {
      auto& tile = tiles_[t];
      const std::uint32_t irq = tile.irq_status();
      tile.clear_irq(irq);
      if ((irq & MP_TILE_IRQ_STATUS_ERROR_MASK) != 0) tile.check_error();
      if ((irq & MP_TILE_IRQ_STATUS_ADC_SAT_MASK) != 0) saturated.set(t);
    });
    pending.and_not(fired);
  }
  return saturated;
}

void HalAccelerator::handle_saturation(const TileSet& flagged, std::uint32_t op, std::size_t n_in) {
  flagged.for_each([&](unsigned t) { rerun_saturated(t, op, n_in); });
}

void HalAccelerator::rerun_saturated(unsigned t, std::uint32_t op, std::size_t n_in) {
  auto& tile = tiles_[t];
  ++adc_sat_.flagged;
  adc_sat_.codes += hal_.read32(tile.base() + MP_TILE_ADC_SAT_COUNT);
  if (!adc_recover_) return;
  std::uint64_t reruns = 0;
  bool halved = false;
  bool saturated = true;
  while (saturated) {
    if (reruns < adc_retry_limit_) {
      ++reruns;
      ++adc_sat_.reruns;
    } else if (!halved) {
      // The signal is out of range, not a glitch: halve the inputs (the INPUT window
      // read back), double the outputs.
      halved = true;
      ++adc_sat_.rescaled;
      xbuf_.resize(n_in);
      hal_.read_block(tile.base() + MP_TILE_INPUT_OFFSET, xbuf_.data(), n_in * sizeof(float));
      for (auto& v : xbuf_) v *= 0.5F;
      tile.write_input(xbuf_.data(), n_in);
      out_scale_[t] = 2.0F;
    } else {
      break;
    }
    tile.start(op);
    // Wait on the tile's own IRQ_STATUS: sysctl's TILE_IRQ line of the run just
    // acknowledged may not have dropped yet (wait_irq syncs the core first).
    std::uint32_t irq = 0;
    for (;;) {
      irq = tile.irq_status();
      if ((irq & MP_TILE_IRQ_STATUS_DONE_MASK) != 0) break;
      hal_.wait_irq(1U << irq_line_);
    }
    tile.clear_irq(irq);
    if ((irq & MP_TILE_IRQ_STATUS_ERROR_MASK) != 0) tile.check_error();
    saturated = (irq & MP_TILE_IRQ_STATUS_ADC_SAT_MASK) != 0;
  }
  if (saturated) {
    ++adc_sat_.unresolved;
  } else {
    ++adc_sat_.recovered;
  }
}

TileSet HalAccelerator::start_tiles(const LayerMap& L, bool transpose, const float* x, int n,
                                    std::uint32_t op) {
  const auto nv = static_cast<std::size_t>(n);
  const std::size_t in_dim = transpose ? L.shape.out : L.shape.in;
  const std::size_t drive = transpose ? C_ : R_;  // inputs per tile
  const int drive_blocks = transpose ? L.col_blocks : L.row_blocks;
  const int other_blocks = transpose ? L.row_blocks : L.col_blocks;
  xbuf_.resize(drive * nv);
  TileSet pending(tiles_.size());
  for (int db = 0; db < drive_blocks; ++db) {
    const std::size_t i0 = static_cast<std::size_t>(db) * drive;
    const std::size_t ni = std::min(drive, in_dim - i0);
    std::fill(xbuf_.begin(), xbuf_.end(), 0.0F);
    for (std::size_t v = 0; v < nv; ++v)
      std::copy_n(x + v * in_dim + i0, ni, xbuf_.data() + v * drive);
    for (int ob = 0; ob < other_blocks; ++ob) {
      const unsigned t = transpose ? tile_index(L, ob, db) : tile_index(L, db, ob);
      auto& tile = tiles_[t];
      tile.configure(static_cast<unsigned>(n), transpose);
      tile.write_input(xbuf_.data(), drive * nv);
      tile.start(op);
      pending.set(t);
    }
  }
  return pending;
}

void HalAccelerator::mvm_chunk(const LayerMap& L, bool transpose, const float* x, int n, float* y) {
  const auto nv = static_cast<std::size_t>(n);
  const std::size_t out_dim = transpose ? L.shape.in : L.shape.out;
  const std::size_t drive = transpose ? C_ : R_;  // inputs per tile
  const std::size_t sense = transpose ? R_ : C_;  // outputs per tile
  const std::uint32_t op = transpose ? MP_TILE_CMD_OP_MVM_TRANSPOSE : MP_TILE_CMD_OP_MVM_FWD;
  ybuf_.resize(sense * nv);
  const TileSet saturated = wait_tiles(start_tiles(L, transpose, x, n, op));
  if (saturated.any()) handle_saturation(saturated, op, drive * nv);
  std::fill(y, y + nv * out_dim, 0.0F);
  for (int rb = 0; rb < L.row_blocks; ++rb) {
    for (int cb = 0; cb < L.col_blocks; ++cb) {
      const unsigned t = tile_index(L, rb, cb);
      tiles_[t].read_output(ybuf_.data(), sense * nv);
      const std::size_t o0 = static_cast<std::size_t>(transpose ? rb : cb) * sense;
      const std::size_t no = std::min(sense, out_dim - o0);
      if (saturated.any() && out_scale_[t] != 1.0F) {
        for (float& v : ybuf_) v *= out_scale_[t];
        out_scale_[t] = 1.0F;
      }
      for (std::size_t v = 0; v < nv; ++v) {
        float* yy = y + v * out_dim + o0;
        const float* p = ybuf_.data() + v * sense;
        for (std::size_t j = 0; j < no; ++j) yy[j] += p[j];
      }
    }
  }
}

void HalAccelerator::mvm_chunk_dma(const LayerMap& L, bool transpose, const float* x, int n,
                                   float* y) {
  const auto nv = static_cast<std::size_t>(n);
  const std::size_t in_dim = transpose ? L.shape.out : L.shape.in;
  const std::size_t out_dim = transpose ? L.shape.in : L.shape.out;
  const std::size_t drive = transpose ? C_ : R_;
  const std::size_t sense = transpose ? R_ : C_;
  const int drive_blocks = transpose ? L.col_blocks : L.row_blocks;
  const int other_blocks = transpose ? L.row_blocks : L.col_blocks;
  const std::uint32_t op = transpose ? MP_TILE_CMD_OP_MVM_TRANSPOSE : MP_TILE_CMD_OP_MVM_FWD;
  const std::uint64_t cmd = dma_->constant((op << MP_TILE_CMD_OP_SHIFT) & MP_TILE_CMD_OP_MASK);
  std::vector<DmaDriver::Desc> chain;
  TileSet pending(tiles_.size());
  for (int db = 0; db < drive_blocks; ++db) {
    const std::size_t i0 = static_cast<std::size_t>(db) * drive;
    const std::size_t ni = std::min(drive, in_dim - i0);
    const std::uint64_t staged = dma_in_ + static_cast<std::uint64_t>(db) * drive * nv * 4;
    float* xs = dma_->ptr<float>(staged, drive * nv);
    std::fill(xs, xs + drive * nv, 0.0F);
    for (std::size_t v = 0; v < nv; ++v) std::copy_n(x + v * in_dim + i0, ni, xs + v * drive);
    for (int ob = 0; ob < other_blocks; ++ob) {
      const unsigned t = transpose ? tile_index(L, ob, db) : tile_index(L, db, ob);
      auto& tile = tiles_[t];
      tile.configure(static_cast<unsigned>(n), transpose);
      DmaDriver::Desc in;
      in.src = static_cast<std::uint32_t>(staged);
      in.dst = static_cast<std::uint32_t>(tile.base() + MP_TILE_INPUT_OFFSET);
      in.count = static_cast<std::uint32_t>(drive * nv);
      in.format = DmaDriver::kF32;
      chain.push_back(in);
      DmaDriver::Desc start;
      start.src = static_cast<std::uint32_t>(cmd);
      start.dst = static_cast<std::uint32_t>(tile.base() + MP_TILE_CMD);
      start.count = 1;
      start.format = DmaDriver::kU32;
      chain.push_back(start);
      pending.set(t);
    }
  }
  dma_->run(chain);
  const TileSet saturated = wait_tiles(pending);
  if (saturated.any()) handle_saturation(saturated, op, drive * nv);
  chain.clear();
  std::size_t k = 0;
  for (int rb = 0; rb < L.row_blocks; ++rb) {
    for (int cb = 0; cb < L.col_blocks; ++cb, ++k) {
      DmaDriver::Desc out;
      out.src =
          static_cast<std::uint32_t>(tiles_[tile_index(L, rb, cb)].base() + MP_TILE_OUTPUT_OFFSET);
      out.dst = static_cast<std::uint32_t>(dma_out_ + k * sense * nv * 4);
      out.count = static_cast<std::uint32_t>(sense * nv);
      out.format = DmaDriver::kF32;
      chain.push_back(out);
    }
  }
  dma_->run(chain);
  std::fill(y, y + nv * out_dim, 0.0F);
  k = 0;
  for (int rb = 0; rb < L.row_blocks; ++rb) {
    for (int cb = 0; cb < L.col_blocks; ++cb, ++k) {
      float* ys = dma_->ptr<float>(dma_out_ + k * sense * nv * 4, sense * nv);
      const std::size_t o0 = static_cast<std::size_t>(transpose ? rb : cb) * sense;
      const std::size_t no = std::min(sense, out_dim - o0);
      const unsigned t = tile_index(L, rb, cb);
      if (saturated.any() && out_scale_[t] != 1.0F) {
        for (std::size_t i = 0; i < sense * nv; ++i) ys[i] *= out_scale_[t];
        out_scale_[t] = 1.0F;
      }
      for (std::size_t v = 0; v < nv; ++v) {
        float* yy = y + v * out_dim + o0;
        const float* p = ys + v * sense;
        for (std::size_t j = 0; j < no; ++j) yy[j] += p[j];
      }
    }
  }
}

void HalAccelerator::calibrate_adcs() {
  TileSet pending(tiles_.size());
  for (unsigned t = 0; t < tiles_.size(); ++t) {
    tiles_[t].start(MP_TILE_CMD_OP_ADC_TRIM);
    pending.set(t);
  }
  wait_tiles(pending);
}

void HalAccelerator::profile_range(int layer, bool transpose, const float* x, int n) {
  auto& done = profiled_[static_cast<std::size_t>(layer)][transpose ? 1 : 0];
  const auto& L = layers_[static_cast<std::size_t>(layer)];
  if (done < 0) done = tiles_[L.first_tile].adc_range(transpose) != 0 ? 1 : 0;
  if (done != 0) return;
  done = 1;
  const std::uint32_t op =
      transpose ? MP_TILE_CMD_OP_PROFILE_TRANSPOSE : MP_TILE_CMD_OP_PROFILE_FWD;
  wait_tiles(start_tiles(L, transpose, x, n, op));
  const std::uint32_t adc_bits = hal_.read32(tiles_[L.first_tile].base() + MP_TILE_ADC_BITS);
  const std::size_t bins = (static_cast<std::size_t>(1) << (adc_bits - 1)) + 1;
  const unsigned n_tiles = static_cast<unsigned>(L.row_blocks * L.col_blocks);
  std::vector<std::uint32_t> h(bins);
  std::vector<std::uint64_t> sum(bins, 0);
  std::vector<std::uint32_t> steps(n_tiles, 0);
  for (unsigned k = 0; k < n_tiles; ++k) {
    tiles_[L.first_tile + k].read_profile(h.data(), bins);
    std::vector<std::uint64_t> one(h.begin(), h.end());
    for (std::size_t b = 0; b < bins; ++b) sum[b] += h[b];
    steps[k] = fw::adc_range_steps(one.data(), bins, range_percentile_);
  }
  const std::uint32_t layer_steps = fw::adc_range_steps(sum.data(), bins, range_percentile_);
  for (unsigned k = 0; k < n_tiles; ++k) {
    const std::uint32_t v = range_mode_ == fw::AdcRangeMode::profile_layer ? layer_steps : steps[k];
    // A tile that counted nothing (e.g. only padding rows) keeps a range of the layer's.
    tiles_[L.first_tile + k].set_adc_range(transpose, v != 0 ? v : std::max(layer_steps, 1U));
  }
}

void HalAccelerator::forward(int layer, const float* x, int batch, float* y) {
  const auto& L = layers_[static_cast<std::size_t>(layer)];
  if (range_mode_ != fw::AdcRangeMode::fixed && batch > 0)
    profile_range(layer, false, x, std::min(static_cast<int>(buf_), batch));
  for (int s = 0; s < batch; s += static_cast<int>(buf_)) {
    const int n = std::min(static_cast<int>(buf_), batch - s);
    if (dma_ != nullptr) {
      mvm_chunk_dma(L, false, x + static_cast<std::size_t>(s) * L.shape.in, n,
                    y + static_cast<std::size_t>(s) * L.shape.out);
    } else {
      mvm_chunk(L, false, x + static_cast<std::size_t>(s) * L.shape.in, n,
                y + static_cast<std::size_t>(s) * L.shape.out);
    }
  }
  mvm_vectors_ += static_cast<std::uint64_t>(batch);
}

void HalAccelerator::transpose(int layer, const float* d, int batch, float* y) {
  const auto& L = layers_[static_cast<std::size_t>(layer)];
  // The DAC range is [-1, 1]: scale the errors, run signed transpose MVMs, scale back.
  const float mx =
      fw::scale_to_dac_range(d, static_cast<std::size_t>(batch) * L.shape.out, scaled_);
  if (range_mode_ != fw::AdcRangeMode::fixed && batch > 0)
    profile_range(layer, true, scaled_.data(), std::min(static_cast<int>(buf_), batch));
  for (int s = 0; s < batch; s += static_cast<int>(buf_)) {
    const int k = std::min(static_cast<int>(buf_), batch - s);
    const float* xs = scaled_.data() + static_cast<std::size_t>(s) * L.shape.out;
    float* ys = y + static_cast<std::size_t>(s) * L.shape.in;
    if (dma_ != nullptr) {
      mvm_chunk_dma(L, true, xs, k, ys);
    } else {
      mvm_chunk(L, true, xs, k, ys);
    }
  }
  fw::scale_back(y, static_cast<std::size_t>(batch) * L.shape.in, mx);
  mvm_vectors_ += static_cast<std::uint64_t>(batch);
}

std::size_t HalAccelerator::update() {
  const std::size_t n = update_.update();
  level_changes_ += n;
  return n;
}

void HalAccelerator::host_compute(std::uint64_t macs, std::uint64_t ops) {
  macs_ += macs;
  ops_ += ops;
  if (macs != 0) hal_.charge_macs(macs);
  if (ops != 0) hal_.charge_compute(ops);
}

fw::AccelStats HalAccelerator::stats() const {
  fw::AccelStats s;
  s.level_changes = level_changes_;
  s.mvm_vectors = mvm_vectors_;
  return s;
}

std::vector<std::uint64_t> HalAccelerator::checkpoint_words() const {
  std::vector<std::uint64_t> w{level_changes_, mvm_vectors_, macs_, ops_};
  for (const auto& t : tiles_) w.push_back(t.cached_config());
  return w;
}

void HalAccelerator::restore_checkpoint_words(const std::vector<std::uint64_t>& w) {
  if (w.size() != 4 + tiles_.size())
    throw std::runtime_error("HalAccelerator: checkpoint of another tile count");
  level_changes_ = w[0];
  mvm_vectors_ = w[1];
  macs_ = w[2];
  ops_ = w[3];
  for (std::size_t i = 0; i < tiles_.size(); ++i)
    tiles_[i].set_cached_config(static_cast<std::uint32_t>(w[4 + i]));
  for (auto& l : profiled_) l = {-1, -1};  // read back from ADC_RANGE_* when needed
}

}  // namespace memplast::drivers
