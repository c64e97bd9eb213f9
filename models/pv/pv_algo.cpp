#include "pv/pv_algo.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::pv {

PvBand band_for(double g_target_uS, double level_spacing_uS, const PvParams& p, int level) {
  double frac = p.band_frac;
  if (!p.band_frac_per_level.empty()) {
    if (level < 0 || static_cast<std::size_t>(level) >= p.band_frac_per_level.size()) {
      throw std::out_of_range(
          fmt::format("pv.band_frac_per_level has {} entries, level {} has none",
                      p.band_frac_per_level.size(), level));
    }
    frac = p.band_frac_per_level[static_cast<std::size_t>(level)];
  }
  const double hw = frac * level_spacing_uS;
  return {g_target_uS - hw, g_target_uS + hw};
}

PvFsm::PvFsm(const PvParams& p, PvBand band, double v_gate_for_target_V,
             const device::DeviceArray* ideal)
    : p_(p), band_(band), ideal_(ideal) {
  v_set_start_ = p.set_start == "target"
                     ? std::clamp(v_gate_for_target_V - p.v_gate_backoff_V, 0.0, p.v_gate_max_V)
                     : p.v_gate_start_V;
  v_set_ = v_set_start_;
  v_reset_ = p.v_reset_start_V;
}

PvFsm::Action PvFsm::on_verify(double g_read_uS) {
  if (done_) return {r_.success ? Kind::done_ok : Kind::done_fail, 0.0};
  ++r_.n_verify;
  r_.g_final_uS = g_read_uS;
  if (band_.contains(g_read_uS)) {
    done_ = true;
    r_.success = true;
  } else if (r_.iterations >= p_.max_iterations) {
    done_ = true;
    r_.success = false;
  }
  if (done_) {
    r_.duration_s = pv_duration_s(p_, r_.n_set, r_.n_reset, r_.n_verify);
    r_.energy_j = pv_energy_j(p_, r_.n_set, r_.n_reset, r_.n_verify);
    return {r_.success ? Kind::done_ok : Kind::done_fail, 0.0};
  }
  ++r_.iterations;
  if (ideal_ != nullptr && r_.iterations == 1) {
    // Ideal device: one calibrated pulse to the band's centre.
    const double target = 0.5 * (band_.lo_uS + band_.hi_uS);
    if (g_read_uS < band_.lo_uS) {
      last_set_V_ = std::min(p_.v_gate_max_V, ideal_->gate_for(target));
      ++r_.n_set;
      last_ = Kind::set;
      return {Kind::set, last_set_V_};
    }
    last_reset_V_ = std::min(p_.v_reset_max_V, ideal_->reset_for(g_read_uS, target));
    ++r_.n_reset;
    last_ = Kind::reset;
    return {Kind::reset, last_reset_V_};
  }
  const auto back = static_cast<double>(p_.reversal_backoff_steps);
  if (g_read_uS < band_.lo_uS) {
    if (last_ == Kind::reset && last_set_V_ >= 0) {
      // Reversal after an overshoot: resume below the SET that overshot.
      v_set_ = std::max(std::min(p_.v_gate_start_V, v_set_start_),
                        last_set_V_ - back * p_.v_gate_step_V);
    }
    const Action a{Kind::set, v_set_};
    last_set_V_ = v_set_;
    v_set_ = std::min(p_.v_gate_max_V, v_set_ + p_.v_gate_step_V);
    ++r_.n_set;
    last_ = Kind::set;
    return a;
  }
  if (last_ == Kind::set && last_reset_V_ >= 0) {
    v_reset_ = std::max(p_.v_reset_start_V, last_reset_V_ - back * p_.v_reset_step_V);
  }
  const Action a{Kind::reset, v_reset_};
  last_reset_V_ = v_reset_;
  v_reset_ = std::min(p_.v_reset_max_V, v_reset_ + p_.v_reset_step_V);
  ++r_.n_reset;
  last_ = Kind::reset;
  return a;
}

double pv_duration_s(const PvParams& p, int n_set, int n_reset, int n_verify) {
  return 1e-9 * (n_set * p.t_set_ns + n_reset * p.t_reset_ns + n_verify * p.t_verify_ns);
}

double pv_energy_j(const PvParams& p, int n_set, int n_reset, int n_verify) {
  return 1e-12 * (n_set * p.e_set_pJ + n_reset * p.e_reset_pJ + n_verify * p.e_verify_pJ);
}

PvResult program_verify(device::DeviceArray& dev, std::size_t cell, double g_target_uS,
                        const PvBand& band, const PvParams& p, double t_start_s) {
  PvFsm fsm(p, band, dev.gate_for(g_target_uS), ideal_or_null(dev));
  double t = t_start_s;
  for (;;) {
    t += 1e-9 * p.t_verify_ns;  // the read is sampled at the end of the verify
    const PvFsm::Action a = fsm.on_verify(dev.read(cell, t));
    if (a.kind == PvFsm::Kind::set) {
      t += 1e-9 * p.t_set_ns;
      dev.set_pulse(cell, a.voltage_V, t);
    } else if (a.kind == PvFsm::Kind::reset) {
      t += 1e-9 * p.t_reset_ns;
      dev.reset_pulse(cell, a.voltage_V, t);
    } else {
      break;
    }
  }
  return fsm.result();
}

}  // namespace memplast::pv
