#include "sw/drivers/meta_pv_update.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "sw/include/memplast_regs.h"

namespace memplast::drivers {

MetaPvUpdatePath::MetaPvUpdatePath(hal::Hal& hal, MetaPvLayout layout, unsigned irq_line)
    : hal_(hal),
      geo_(discover(hal)),
      L_(std::move(layout)),
      irq_line_(irq_line),
      meta_(hal),
      pv_(hal) {
  // The tile geometry is the hardware's (sysctl); a layout that names one must agree.
  if (L_.tile_rows == 0 && L_.tile_cols == 0) {
    L_.tile_rows = geo_.tile_rows;
    L_.tile_cols = geo_.tile_cols;
  }
  geo_.require_tile(L_.tile_rows, L_.tile_cols);
  geo_.require({L_.shapes.begin(), L_.shapes.end()});
  if (!L_.hidden.empty() && L_.hidden.size() != L_.shapes.size()) {
    throw std::invalid_argument("MetaPvUpdatePath: hidden weights for " +
                                std::to_string(L_.hidden.size()) + " layers, the network has " +
                                std::to_string(L_.shapes.size()));
  }
  L_.hidden.resize(L_.shapes.size());
  grad_written_.assign(L_.shapes.size(), false);
}

std::size_t MetaPvUpdatePath::first(int layer) const {
  std::size_t f = 0;
  for (int l = 0; l < layer; ++l) f += count(l);
  return f;
}

std::size_t MetaPvUpdatePath::total() const { return first(static_cast<int>(L_.shapes.size())); }

std::size_t MetaPvUpdatePath::count(int layer) const {
  const auto& s = L_.shapes[static_cast<std::size_t>(layer)];
  return s.in * s.out;
}

void MetaPvUpdatePath::init() {
  pv_.clear_counters();
  format_ = meta_.format();
  if (format_.levels < 2 || format_.levels > MP_META_UNIT_LEVEL_VALUES_SIZE / 4) {
    throw std::runtime_error("meta_unit FORMAT.N_LEVELS = " + std::to_string(format_.levels) +
                             ": not a level count (2 .. " +
                             std::to_string(MP_META_UNIT_LEVEL_VALUES_SIZE / 4) + ")");
  }
  level_values_.resize(format_.levels);
  meta_.read_level_values(level_values_.data(), level_values_.size());
  unsigned first_tile = 0;
  for (int l = 0; l < static_cast<int>(L_.shapes.size()); ++l) {
    const std::size_t n = count(l);
    const auto& h = L_.hidden[static_cast<std::size_t>(l)];
    if (!h.empty()) {
      if (h.size() != n) {
        throw std::invalid_argument("MetaPvUpdatePath: layer " + std::to_string(l) + " has " +
                                    std::to_string(n) + " weights, the hidden weights given " +
                                    std::to_string(h.size()));
      }
      meta_.write_hidden(first(l), h.data(), n, format_.hidden_frac_bits);
      // Written: the unit holds them now; the firmware keeps no copy.
      std::vector<double>().swap(L_.hidden[static_cast<std::size_t>(l)]);
    }
    first_tile += push_layer(l, first_tile, false);
  }
  wait_and_recover();
}

unsigned MetaPvUpdatePath::push_layer(int l, unsigned first_tile, bool force) {
  const auto& s = L_.shapes[static_cast<std::size_t>(l)];
  const std::size_t n = count(l);
  levels_.resize(n);
  meta_.read_levels(first(l), levels_.data(), n);
  const auto R = L_.tile_rows;
  const auto C = L_.tile_cols;
  const auto col_blocks = static_cast<unsigned>((s.out + C - 1) / C);
  const auto row_blocks = static_cast<unsigned>((s.in + R - 1) / R);
  if (L_.reference_column) {  // the reference cells of the rows in use, tile by tile
    for (unsigned rb = 0; rb < row_blocks; ++rb) {
      const auto rows = static_cast<unsigned>(std::min<std::size_t>(R, s.in - std::size_t{rb} * R));
      for (unsigned cb = 0; cb < col_blocks; ++cb) {
        for (unsigned r = 0; r < rows; ++r) {
          push_checked(first_tile + rb * col_blocks + cb, r, C, 0, force);
        }
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = static_cast<unsigned>(i / s.out);
    const auto col = static_cast<unsigned>(i % s.out);
    const unsigned tile = first_tile + (row / R) * col_blocks + col / C;
    push_checked(tile, row % R, col % C, static_cast<std::uint32_t>(levels_[i]), force);
  }
  return row_blocks * col_blocks;
}

std::uint64_t MetaPvUpdatePath::refresh() {
  const std::uint32_t before = pv_.counters().pulses;
  unsigned first_tile = 0;
  for (int l = 0; l < static_cast<int>(L_.shapes.size()); ++l)
    first_tile += push_layer(l, first_tile, true);
  wait_and_recover();
  return static_cast<std::uint32_t>(pv_.counters().pulses - before);
}

void MetaPvUpdatePath::push_checked(unsigned tile, unsigned row, unsigned col, std::uint32_t level,
                                    bool force) {
  const std::uint32_t status = pv_.push(tile, row, col, level, irq_line_, force);
  // Failures pending: recover before the failure log fills up (it holds 4096).
  if ((status & MP_PV_CTRL_STATUS_FAIL_PENDING_MASK) != 0 && pv_.fail_count() >= 2048) {
    pv_.wait_idle(irq_line_);
    recover();
  }
}

void MetaPvUpdatePath::wait_and_recover() {
  const std::uint32_t status = pv_.wait_idle(irq_line_);
  if ((status & MP_PV_CTRL_STATUS_FAIL_PENDING_MASK) != 0) recover();
}

MetaPvUpdatePath::Where MetaPvUpdatePath::locate(unsigned tile, unsigned row, unsigned col) const {
  const auto R = L_.tile_rows;
  const auto C = L_.tile_cols;
  unsigned first_tile = 0;
  for (int l = 0; l < static_cast<int>(L_.shapes.size()); ++l) {
    const auto& s = L_.shapes[static_cast<std::size_t>(l)];
    const auto col_blocks = static_cast<unsigned>((s.out + C - 1) / C);
    const auto n_tiles = static_cast<unsigned>((s.in + R - 1) / R) * col_blocks;
    if (tile < first_tile + n_tiles) {
      const unsigned t = tile - first_tile;
      const std::size_t grow = std::size_t{t / col_blocks} * R + row;
      const std::size_t gcol = std::size_t{t % col_blocks} * C + col;
      if (grow >= s.in || gcol >= s.out) {
        throw std::runtime_error("pv_ctrl failure log: tile " + std::to_string(tile) + " row " +
                                 std::to_string(row) + " col " + std::to_string(col) +
                                 " holds no weight");
      }
      Where w;
      w.layer = l;
      w.index = grow * s.out + gcol;
      w.n_rows =
          static_cast<unsigned>(std::min<std::size_t>(R, s.in - std::size_t{t / col_blocks} * R));
      return w;
    }
    first_tile += n_tiles;
  }
  throw std::runtime_error("pv_ctrl failure log: tile " + std::to_string(tile) +
                           " is not a weight tile");
}

std::int32_t MetaPvUpdatePath::level_of(const Where& w) {
  std::int32_t lv = 0;
  meta_.read_levels(first(w.layer) + w.index, &lv, 1);
  return lv;
}

void MetaPvUpdatePath::recover() {
  // Retries are counted per recovery (per wait for idle): a weight that failed in an
  // earlier step gets its retries again.
  std::map<std::uint64_t, unsigned> tries;
  for (;;) {
    const std::uint32_t n = pv_.fail_count();
    if (n == 0) break;
    // (tile, col) -> failed rows, in the order seen.
    std::map<std::pair<unsigned, unsigned>, std::vector<unsigned>> failed;
    for (std::uint32_t k = 0; k < n; ++k) {
      const PvFailure f = pv_.pop_failure();
      if (f.cause == MP_PV_CTRL_FAIL_CAUSE_CAUSE_DROPPED)
        ++rec_.dropped;
      else
        ++rec_.pv_failed;
      const std::uint64_t kk = key(f.tile, f.row, f.col);
      if (skipped_.count(kk) != 0) continue;
      unsigned& t = tries[kk];
      if (L_.reference_column && f.col == L_.tile_cols) {  // a reference cell
        if (t < L_.retry_limit) {
          ++t;
          ++rec_.retries;
          pv_.push(f.tile, f.row, f.col, 0, irq_line_, true);
        } else {
          ++rec_.unrepaired;
        }
        continue;
      }
      if (t < L_.retry_limit) {
        ++t;
        ++rec_.retries;
        const auto lv = level_of(locate(f.tile, f.row, f.col));
        pv_.push(f.tile, f.row, f.col, static_cast<std::uint32_t>(lv), irq_line_, true);
      } else {
        auto& rows = failed[{f.tile, f.col}];
        if (std::find(rows.begin(), rows.end(), f.row) == rows.end()) rows.push_back(f.row);
      }
    }
    // Columns with the most failed weights first (ties: tile, then column).
    std::vector<std::pair<std::pair<unsigned, unsigned>, std::vector<unsigned>>> cols(
        failed.begin(), failed.end());
    std::stable_sort(cols.begin(), cols.end(), [](const auto& a, const auto& b) {
      return a.second.size() > b.second.size();
    });
    for (const auto& [tc, rows] : cols) {
      const auto [tile, col] = tc;
      rec_.failed_weights += rows.size();
      const std::uint64_t ck = key(tile, 0, col);
      unsigned& used = spares_used_[tile];
      if (L_.remap && remapped_.count(ck) == 0 && used < L_.spare_cols) {
        const unsigned spare = used++;
        remapped_[ck] = spare;
        ++rec_.remapped_columns;
        hal_.write32(geo_.tile_addr(tile) + MP_TILE_COL_REMAP,
                     (col << MP_TILE_COL_REMAP_COL_SHIFT) |
                         (spare << MP_TILE_COL_REMAP_SPARE_SHIFT) | MP_TILE_COL_REMAP_ENABLE_MASK);
        // Fill the spare column: every weight of the column, at its current level; its
        // weights get their retries afresh.
        const Where w0 = locate(tile, 0, col);
        for (unsigned r = 0; r < w0.n_rows; ++r) {
          tries.erase(key(tile, r, col));
          const auto lv = level_of(locate(tile, r, col));
          pv_.push(tile, r, col, static_cast<std::uint32_t>(lv), irq_line_, true);
          ++rec_.reprogrammed;
        }
      } else if (L_.skip) {
        for (unsigned r : rows) {
          pv_.skip(tile, r, col, true);
          skipped_.insert(key(tile, r, col));
          ++rec_.skipped_weights;
        }
      } else {
        rec_.unrepaired += rows.size();
      }
    }
    pv_.wait_idle(irq_line_);
  }
}

std::vector<std::uint64_t> MetaPvUpdatePath::recovery_words() const {
  std::vector<std::uint64_t> w = {rec_.pv_failed,       rec_.dropped,          rec_.retries,
                                  rec_.failed_weights,  rec_.remapped_columns, rec_.reprogrammed,
                                  rec_.skipped_weights, rec_.unrepaired,       remapped_.size(),
                                  spares_used_.size(),  skipped_.size()};
  for (const auto& [k, v] : remapped_) w.insert(w.end(), {k, v});
  for (const auto& [k, v] : spares_used_) w.insert(w.end(), {k, v});
  w.insert(w.end(), skipped_.begin(), skipped_.end());
  return w;
}

void MetaPvUpdatePath::restore_recovery_words(const std::vector<std::uint64_t>& w) {
  if (w.size() < 11) throw std::runtime_error("checkpoint: recovery state too short");
  rec_ = {w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]};
  const std::size_t nr = w[8];
  const std::size_t ns = w[9];
  const std::size_t nk = w[10];
  if (w.size() != 11 + 2 * nr + 2 * ns + nk)
    throw std::runtime_error("checkpoint: recovery state has the wrong length");
  std::size_t i = 11;
  remapped_.clear();
  spares_used_.clear();
  skipped_.clear();
  for (std::size_t k = 0; k < nr; ++k, i += 2) remapped_[w[i]] = static_cast<unsigned>(w[i + 1]);
  for (std::size_t k = 0; k < ns; ++k, i += 2)
    spares_used_[static_cast<unsigned>(w[i])] = static_cast<unsigned>(w[i + 1]);
  for (std::size_t k = 0; k < nk; ++k) skipped_.insert(w[i++]);
}

void MetaPvUpdatePath::read_weights(int layer, float* w) {
  const std::size_t n = count(layer);
  levels_.resize(n);
  meta_.read_levels(first(layer), levels_.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(levels_[i]);
    if (k >= level_values_.size()) {
      throw std::runtime_error("meta_unit LEVELS[" + std::to_string(first(layer) + i) +
                               "] = " + std::to_string(levels_[i]) + " is not a level index");
    }
    w[i] = level_values_[k];
  }
}

void MetaPvUpdatePath::read_hidden(int layer, float* h) {
  meta_.read_hidden(first(layer), h, count(layer), format_.hidden_frac_bits);
}

void MetaPvUpdatePath::accumulate(int layer, const float* grad) {
  meta_.write_grad(first(layer), grad, count(layer));
  grad_written_[static_cast<std::size_t>(layer)] = true;
}

std::size_t MetaPvUpdatePath::update() {
  if (std::find(grad_written_.begin(), grad_written_.end(), false) != grad_written_.end()) {
    throw std::logic_error(
        "MetaPvUpdatePath::update: every layer's gradient must be written each step");
  }
  grad_written_.assign(grad_written_.size(), false);
  const std::size_t n = total();
  meta_.run(MP_META_UNIT_CMD_OP_ACCUMULATE, n, irq_line_);
  meta_.run(MP_META_UNIT_CMD_OP_STEP, n, irq_line_);
  const std::size_t changes = meta_.changes_count();
  if (changes != 0) wait_and_recover();
  return changes;
}

void MetaPvUpdatePath::new_task() { meta_.run(MP_META_UNIT_CMD_OP_NEW_TASK, total(), irq_line_); }

}  // namespace memplast::drivers
