// Read disturb of TileCore (device.read_disturb_*; docs/device.md "Read disturb"). Kept
// apart from the MVM kernel in tile_core.cpp: the kernel calls accumulate_read_dose once
// per batch and refresh calls apply_read_disturb before a full rebuild.
#include <cmath>

#include "tile/tile_core.hpp"

namespace memplast::tile {

void TileCore::accumulate_read_dose(Direction dir, int reads) {
  const std::size_t d = dir_index(dir);
  const auto n_in = static_cast<std::size_t>(dir == Direction::forward ? rows_ : cols_);
  auto& dose = dose_[d];
  if (dose.size() != n_in) dose.assign(n_in, 0.0);
  const auto& dp = pos_->params();
  const double v_read = p_.v_read_V;
  const double inv_accel = 1.0 / dp.read_disturb_v_accel_V;
  const double v_ref = dp.read_disturb_v_ref_V;
  for (int k = 0; k < reads; ++k) {
    for (std::size_t i = 0; i < n_in; ++i) {
      const double x = std::abs(static_cast<double>(xin_(static_cast<Eigen::Index>(i), k)));
      if (x > 0) dose[i] += std::exp((x * v_read - v_ref) * inv_accel);
    }
  }
}

double TileCore::read_dose(Direction dir, int line) const {
  const auto& dose = dose_[dir_index(dir)];
  const auto i = static_cast<std::size_t>(line);
  return i < dose.size() ? dose[i] : 0.0;
}

double TileCore::apply_read_disturb(double t_s) {
  if (dose_[0].empty() && dose_[1].empty()) return 0.0;
  double sum_abs = 0;
  std::size_t n_dev = 0;
  for (int r = 0; r < rows_; ++r) {
    const double dr = read_dose(Direction::forward, r);
    for (int c = 0; c < cols_; ++c) {
      const double dose = dr + read_dose(Direction::transpose, c);
      if (!(dose > 0)) continue;
      const std::size_t i = cell_index(r, c);
      double dg = pos_->read_disturb(i, dose, t_s);
      disturb_total_uS_ += dg;
      sum_abs += std::abs(dg);
      ++n_dev;
      if (neg_) {
        dg = neg_->read_disturb(i, dose, t_s);
        disturb_total_uS_ += dg;
        sum_abs += std::abs(dg);
        ++n_dev;
      }
    }
    if (ref_ && dr > 0) {  // the reference column is driven with the rows (forward)
      const double dg = ref_->read_disturb(static_cast<std::size_t>(r), dr, t_s);
      disturb_total_uS_ += dg;
      sum_abs += std::abs(dg);
      ++n_dev;
    }
  }
  dose_[0].clear();
  dose_[1].clear();
  invalidate_all();  // the next refresh rebuilds every cached weight
  return n_dev > 0 ? sum_abs / static_cast<double>(n_dev) : 0.0;
}

}  // namespace memplast::tile
