#include "device/device.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/bytes.hpp"

namespace memplast::device {

namespace {
float stuck_value(const DeviceParams& p, Stuck k) {
  return static_cast<float>(k == Stuck::at_lrs ? p.g_max_uS : p.g_min_uS);
}
}  // namespace

DeviceArray::DeviceArray(const DeviceParams& p, std::size_t n_cells, std::uint64_t seed)
    : p_(p.ideal ? ideal_params(p) : p),
      n_(n_cells),
      seed_(seed),
      inv_log_sat_(1.0 / std::log1p(p.relax_tsat_s / p.relax_t0_s)),
      g_prog_(n_cells, static_cast<float>(p.g_min_uS)),
      relax_(n_cells, 0.0F),
      t_write_(n_cells, 0.0),
      pulses_(n_cells, 0),
      stuck_(n_cells, Stuck::none) {
  rng_.reserve(n_cells);
  for (std::size_t i = 0; i < n_cells; ++i) {
    stuck_[i] = d2d(i).stuck;
    if (stuck_[i] != Stuck::none) g_prog_[i] = stuck_value(p, stuck_[i]);
    rng_.emplace_back(derive_seed(seed, "cell", i));
  }
}

DeviceArray::D2d DeviceArray::d2d(std::size_t i) const {
  // Device-to-device draws: their own per-cell stream, always the same number of draws
  // in the same order, so changing one spread does not move the others.
  Rng r(derive_seed(seed_, "d2d", i));
  const double zg = r.normal();
  const double zv = r.normal();
  const double zr = r.normal();
  const double zb = r.normal();
  const double u_stuck = r.uniform();
  const double u_kind = r.uniform();
  D2d d;
  d.gain = static_cast<float>(std::max(0.0, 1.0 + p_.d2d_gain_sigma * zg));
  d.dvth = static_cast<float>(p_.d2d_vth_sigma_V * zv);
  d.dvreset = static_cast<float>(p_.d2d_vreset_sigma_V * zr);
  const double b = p_.endurance_median * std::exp(p_.endurance_sigma_ln * zb);
  d.budget = static_cast<std::uint32_t>(std::clamp(std::round(b), 1.0, 4.0e9));
  if (u_stuck < p_.stuck_rate) d.stuck = u_kind < p_.stuck_lrs_prob ? Stuck::at_lrs : Stuck::at_hrs;
  return d;
}

std::size_t DeviceArray::size() const { return n_; }

std::size_t DeviceArray::state_bytes() const {
  return bytes_of(g_prog_) + bytes_of(relax_) + bytes_of(t_write_) + bytes_of(pulses_) +
         bytes_of(stuck_) + bytes_of(rng_);
}

const DeviceParams& DeviceArray::params() const { return p_; }

double DeviceArray::compliance_uA(double v_gate_V) const {
  const double ov = std::max(0.0, v_gate_V - p_.vth_V);
  return p_.k_tr_uA_per_V2 * ov * ov;
}

double DeviceArray::g_set_nominal(double v_gate_V) const {
  return std::min(p_.g_max_uS, p_.g_min_uS + p_.k_g_uS_per_uA * compliance_uA(v_gate_V));
}

double DeviceArray::gate_for(double g_uS) const {
  const double dg = std::clamp(g_uS, p_.g_min_uS, p_.g_max_uS) - p_.g_min_uS;
  if (p_.k_g_uS_per_uA <= 0 || p_.k_tr_uA_per_V2 <= 0) return p_.vth_V;
  return p_.vth_V + std::sqrt(dg / (p_.k_g_uS_per_uA * p_.k_tr_uA_per_V2));
}

double DeviceArray::reset_for(double g_from_uS, double g_to_uS) const {
  const double from = g_from_uS - p_.g_min_uS;
  const double to = g_to_uS - p_.g_min_uS;
  if (to >= from) return p_.v_reset_th_V;
  if (to <= 0) return std::numeric_limits<double>::infinity();
  return p_.v_reset_th_V + p_.v_reset_scale_V * std::log(from / to);
}

double DeviceArray::prog_sigma(double g_uS) const {
  const double g = std::clamp(g_uS, p_.sigma_fit_lo_uS, p_.sigma_fit_hi_uS);
  return p_.c2c_scale * std::max(0.0, p_.sigma_slope * g + p_.sigma_offset_uS);
}

double DeviceArray::read_sigma(double g_uS) const {
  return p_.read_sigma_abs_uS + p_.read_sigma_frac * std::abs(g_uS);
}

double DeviceArray::relax_profile(double dt_s) const {
  if (dt_s <= 0) return 0.0;
  return std::min(1.0, std::log1p(dt_s / p_.relax_t0_s) * inv_log_sat_);
}

void DeviceArray::wear_out(std::size_t i, double t_s) {
  const Stuck k = rng_[i].uniform() < p_.stuck_lrs_prob ? Stuck::at_lrs : Stuck::at_hrs;
  make_stuck(i, k, t_s);
}

void DeviceArray::after_pulse(std::size_t i, double g_new, double t_s) {
  g_prog_[i] = static_cast<float>(std::max(0.0, g_new));
  const double sig = p_.relax_sigma_frac * p_.relax_scale * p_.g_max_uS;
  const double mu = p_.relax_mean_frac * p_.relax_scale * p_.g_max_uS;
  relax_[i] = static_cast<float>(mu + sig * rng_[i].normal());
  t_write_[i] = t_s;
}

bool DeviceArray::pulse_lands(std::size_t i, std::uint32_t budget, double t_s) {
  ++pulses_[i];
  if (stuck_[i] != Stuck::none) return false;
  if (pulses_[i] > budget) {
    wear_out(i, t_s);
    return false;
  }
  return true;
}

void DeviceArray::set_pulse(std::size_t i, double v_gate_V, double t_s) {
  const D2d d = d2d(i);
  if (!pulse_lands(i, d.budget, t_s)) return;
  const double ov = std::max(0.0, v_gate_V - p_.vth_V - static_cast<double>(d.dvth));
  const double icc = p_.k_tr_uA_per_V2 * ov * ov;
  const double g_target =
      std::min(p_.g_max_uS, p_.g_min_uS + p_.k_g_uS_per_uA * static_cast<double>(d.gain) * icc);
  const double z = rng_[i].normal();
  const double g_drawn = g_target + prog_sigma(g_target) * z;
  const double g_old = g_prog_[i];
  // A SET cannot lower the conductance: a compliance below the present state's current
  // leaves the filament as it is (the state is still rewritten: fresh relaxation draw).
  after_pulse(i, std::max(g_old, g_drawn), t_s);
}

void DeviceArray::reset_pulse(std::size_t i, double v_reset_V, double t_s) {
  const D2d d = d2d(i);
  if (!pulse_lands(i, d.budget, t_s)) return;
  const double ov = std::max(0.0, v_reset_V - p_.v_reset_th_V - static_cast<double>(d.dvreset));
  const double g_old = g_prog_[i];
  const double g_target = p_.g_min_uS + (std::max(g_old, p_.g_min_uS) - p_.g_min_uS) *
                                            std::exp(-ov / p_.v_reset_scale_V);
  const double z = rng_[i].normal();
  if (ov <= 0) {
    // Below threshold: no switching, no disturbance of the state.
    return;
  }
  after_pulse(i, g_target + prog_sigma(g_target) * z, t_s);
}

double DeviceArray::conductance(std::size_t i, double t_s) const {
  const double g = static_cast<double>(g_prog_[i]) +
                   static_cast<double>(relax_[i]) * relax_profile(t_s - t_write_[i]);
  return std::max(0.0, g);
}

void DeviceArray::conductances(double t_s, float* out) const {
  // Float arithmetic for the profile (its relative error, ~1e-7, is far below any
  // noise in the model); one log1p per cell, skipped where there is nothing to relax.
  const auto inv_t0 = static_cast<float>(1.0 / p_.relax_t0_s);
  const auto inv = static_cast<float>(inv_log_sat_);
  const float* gp = g_prog_.data();
  const float* rl = relax_.data();
  const double* tw = t_write_.data();
  for (std::size_t i = 0; i < n_; ++i) {
    float g = gp[i];
    if (rl[i] != 0.0F) {
      const auto dt = static_cast<float>(std::max(0.0, t_s - tw[i]));
      const float prof = std::min(1.0F, std::log1p(dt * inv_t0) * inv);
      g += rl[i] * prof;
    }
    out[i] = std::max(0.0F, g);
  }
}

double DeviceArray::read(std::size_t i, double t_s) {
  const double g = conductance(i, t_s);
  return g + read_sigma(g) * rng_[i].normal();
}

double DeviceArray::read_disturb(std::size_t i, double dose, double t_s) {
  if (stuck_[i] != Stuck::none || !(dose > 0) || !(p_.read_disturb_rate > 0)) return 0.0;
  const double g = conductance(i, t_s);
  const double frac = -std::expm1(-p_.read_disturb_rate * dose);
  const double z = p_.read_disturb_sigma > 0 ? rng_[i].normal() : 0.0;
  double dg = (p_.g_max_uS - g) * frac * (1.0 + p_.read_disturb_sigma * z);
  dg = std::min(dg, p_.g_max_uS - g);
  g_prog_[i] = static_cast<float>(std::max(0.0, static_cast<double>(g_prog_[i]) + dg));
  return dg;
}

void DeviceArray::force(std::size_t i, double g_uS, double t_s) {
  if (stuck_[i] != Stuck::none) return;
  g_prog_[i] = static_cast<float>(std::max(0.0, g_uS));
  relax_[i] = 0.0F;
  t_write_[i] = t_s;
}

std::uint32_t DeviceArray::pulses(std::size_t i) const { return pulses_[i]; }
Stuck DeviceArray::stuck(std::size_t i) const { return stuck_[i]; }

void DeviceArray::make_stuck(std::size_t i, Stuck kind, double t_s) {
  stuck_[i] = kind;
  if (kind == Stuck::none) return;
  g_prog_[i] = stuck_value(p_, kind);
  relax_[i] = 0.0F;
  t_write_[i] = t_s;
}

double DeviceArray::current_of(double g_uS, double v_V) const {
  const IvCoeffs k = iv_coeffs(p_, g_uS);
  return g_uS * v_V * (1.0 + k.a2 * v_V + k.a3 * v_V * v_V);
}

double DeviceArray::current(std::size_t i, double v_V, double t_s) const {
  return current_of(conductance(i, t_s), v_V);
}

std::uint32_t DeviceArray::budget(std::size_t i) const { return d2d(i).budget; }
double DeviceArray::last_write_s(std::size_t i) const { return t_write_[i]; }
double DeviceArray::programmed(std::size_t i) const { return g_prog_[i]; }
double DeviceArray::relax_offset(std::size_t i) const { return relax_[i]; }
double DeviceArray::d2d_gain(std::size_t i) const { return d2d(i).gain; }
double DeviceArray::d2d_vth_V(std::size_t i) const { return d2d(i).dvth; }

std::size_t DeviceArray::stuck_count() const {
  return static_cast<std::size_t>(
      std::count_if(stuck_.begin(), stuck_.end(), [](Stuck s) { return s != Stuck::none; }));
}

void DeviceArray::state_io(StateIO& io) {
  io.section("device");
  io.value("seed", seed_);  // the d2d parameters and budgets follow from it
  io.vec("g_prog", g_prog_);
  io.vec("relax", relax_);
  io.vec("t_write", t_write_);
  io.vec("pulses", pulses_);
  io.vec("stuck", stuck_);
  io.rngs("rng", rng_);
}

}  // namespace memplast::device
