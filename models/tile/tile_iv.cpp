// I-V nonlinearity in the tile's MVMs (device.nl_*; docs/tile.md "I-V nonlinearity").
//
// A cell of conductance G at voltage V carries I = G V (1 + a2(G) V + a3(G) V^2)
// (device::iv_coeffs). A read drives line i at x_i v_read (x_i in [0, 1]: amplitude
// encoding, one DAC level; bit-serial, 0 or 1 per pulse) and the sensed line is held at
// 0 V, so in weight units (current / (v_read x weight unit)) an output senses
//   sum_i W_i x_i + B_i x_i^2 + C_i x_i^3
// with W the usual weights. Forward (rows driven) both devices of a pair see +V and their
// columns are subtracted: B = (a2+ G+ - a2- G-) v / u, C = (a3+ G+ - a3- G-) v^2 / u.
// Transpose (columns driven) drives G+ with +V and G- with -V (as in the IR-drop model),
// and I(-V) = -G V (1 - a2 V + a3 V^2): B = (a2+ G+ + a2- G-) v / u, C as forward. The
// read noise, the read energy and the IR-drop voltages keep their linear model (the
// nonlinear terms use the nominal drive voltage; docs/tile.md).
#include <fmt/format.h>

#include "tile/tile_core.hpp"

namespace memplast::tile {

void TileCore::init_iv() {
  const device::DeviceParams& dp = pos_->params();  // ideal_params when device.ideal
  nl_on_ = device::iv_nonlinear(dp);
  if (!nl_on_) return;
  if (mapping_ != Mapping::differential) {
    throw cfg::ConfigError(fmt::format(
        "{}: 'device.nl_a2_per_V' / 'device.nl_a3_per_V2' (I-V nonlinearity) are modelled in the "
        "tile for 'tile.mapping' differential only",
        name_));
  }
  nl_quad_ = dp.nl_a2_per_V != 0.0;
  nl_cubic_ = dp.nl_a3_per_V2 != 0.0;
  g_pos_ = RowMatrix::Zero(rows_, cols_);  // the constructor's refresh fills them
  g_neg_ = RowMatrix::Zero(rows_, cols_);
  for (auto& m : nl_b_) m = RowMatrix::Zero(rows_, cols_);
  nl_c_ = RowMatrix::Zero(rows_, cols_);
}

void TileCore::iv_cell(Eigen::Index r, Eigen::Index c) {
  const device::DeviceParams& dp = pos_->params();
  const double gp = static_cast<double>(g_pos_(r, c));
  const double gn = static_cast<double>(g_neg_(r, c));
  const device::IvCoeffs kp = device::iv_coeffs(dp, gp);
  const device::IvCoeffs kn = device::iv_coeffs(dp, gn);
  const double v = p_.v_read_V;
  const double inv = 1.0 / weight_unit_uS();
  nl_b_[0](r, c) = static_cast<float>((kp.a2 * gp - kn.a2 * gn) * v * inv);
  nl_b_[1](r, c) = static_cast<float>((kp.a2 * gp + kn.a2 * gn) * v * inv);
  nl_c_(r, c) = static_cast<float>((kp.a3 * gp - kn.a3 * gn) * v * v * inv);
  nl_pulse_valid_ = {false, false};
}

void TileCore::iv_all() {
  for (Eigen::Index r = 0; r < rows_; ++r) {
    for (Eigen::Index c = 0; c < cols_; ++c) iv_cell(r, c);
  }
}

const TileCore::RowMatrix& TileCore::iv_quadratic(Direction dir, double t_s) {
  refresh(t_s);
  if (!nl_on_) {
    auto& m = nl_b_[dir_index(dir)];
    if (m.rows() != rows_) m = RowMatrix::Zero(rows_, cols_);
    return m;
  }
  return nl_b_[dir_index(dir)];
}

const TileCore::RowMatrix& TileCore::iv_cubic(double t_s) {
  refresh(t_s);
  if (!nl_on_ && nl_c_.rows() != rows_) nl_c_ = RowMatrix::Zero(rows_, cols_);
  return nl_c_;
}

const TileCore::RowMatrix& TileCore::iv_pulse_weights(Direction dir, double t_s) {
  const RowMatrix& wm = effective_weights(dir, t_s);  // refreshes (and the IR drop)
  const std::size_t d = dir_index(dir);
  if (!nl_pulse_valid_[d]) {
    nl_pulse_[d] = wm + nl_b_[d] + nl_c_;
    nl_pulse_valid_[d] = true;
  }
  return nl_pulse_[d];
}

void TileCore::add_iv_terms(bool fwd, int n_act) {
  const auto nA = static_cast<Eigen::Index>(n_act);
  const auto x = xin_.topRows(nA);
  nl_x_ = x.cwiseAbs2();  // the drives are >= 0
  if (nl_quad_) {
    if (fwd) {
      acc_.noalias() += nl_b_[0].topRows(nA).transpose() * nl_x_;
    } else {
      acc_.noalias() += nl_b_[1].leftCols(nA) * nl_x_;
    }
  }
  if (nl_cubic_) {
    nl_x_.array() *= x.array();
    if (fwd) {
      acc_.noalias() += nl_c_.topRows(nA).transpose() * nl_x_;
    } else {
      acc_.noalias() += nl_c_.leftCols(nA) * nl_x_;
    }
  }
}

}  // namespace memplast::tile
