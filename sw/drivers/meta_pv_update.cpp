#include "sw/drivers/meta_pv_update.hpp"

#include <stdexcept>
#include <string>

#include "sw/include/memplast_regs.h"

namespace memplast::drivers {

MetaPvUpdatePath::MetaPvUpdatePath(hal::Hal& hal, MetaPvLayout layout, unsigned irq_line)
    : hal_(hal), L_(std::move(layout)), irq_line_(irq_line), meta_(hal), pv_(hal) {
  if (L_.tile_rows == 0 || L_.tile_cols == 0) {
    throw std::invalid_argument("MetaPvUpdatePath: tile geometry is required");
  }
}

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
  for (int l = 0; l < 2; ++l) {
    const auto& s = L_.shapes[static_cast<std::size_t>(l)];
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
    levels_.resize(n);
    meta_.read_levels(first(l), levels_.data(), n);
    const auto R = L_.tile_rows;
    const auto C = L_.tile_cols;
    const auto col_blocks = static_cast<unsigned>((s.out + C - 1) / C);
    for (std::size_t i = 0; i < n; ++i) {
      const auto row = static_cast<unsigned>(i / s.out);
      const auto col = static_cast<unsigned>(i % s.out);
      const unsigned tile = first_tile + (row / R) * col_blocks + col / C;
      pv_.push(tile, row % R, col % C, static_cast<std::uint32_t>(levels_[i]), irq_line_);
    }
    first_tile += static_cast<unsigned>((s.in + R - 1) / R) * col_blocks;
  }
  pv_.wait_idle(irq_line_);
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
  if (!grad_written_[0] || !grad_written_[1]) {
    throw std::logic_error(
        "MetaPvUpdatePath::update: both layers' gradients must be written each step");
  }
  grad_written_ = {false, false};
  const std::size_t n = count(0) + count(1);
  meta_.run(MP_META_UNIT_CMD_OP_ACCUMULATE, n, irq_line_);
  meta_.run(MP_META_UNIT_CMD_OP_STEP, n, irq_line_);
  const std::size_t changes = meta_.changes_count();
  if (changes != 0) pv_.wait_idle(irq_line_);
  return changes;
}

void MetaPvUpdatePath::new_task() {
  meta_.run(MP_META_UNIT_CMD_OP_NEW_TASK, count(0) + count(1), irq_line_);
}

}  // namespace memplast::drivers
