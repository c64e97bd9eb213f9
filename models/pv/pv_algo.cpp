#include "pv/pv_algo.hpp"

#include <algorithm>
#include <cmath>
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

namespace {
namespace pc = tile::prog;
std::uint32_t back_off(std::int64_t last, std::int64_t steps, std::uint32_t step,
                       std::uint32_t floor) {
  const std::int64_t v = last - steps * static_cast<std::int64_t>(step);
  return v < static_cast<std::int64_t>(floor) ? floor : static_cast<std::uint32_t>(v);
}
}  // namespace

PvFsm::PvFsm(const PvParams& p, PvBand band, double v_gate_for_target_V,
             const device::DeviceArray* ideal)
    : p_(p), band_(band), lo_(band.lo_code()), hi_(band.hi_code()), ideal_(ideal) {
  set_max_ = pc::gate_code(p.v_gate_max_V);
  set_step_ = pc::gate_code(p.v_gate_step_V);
  set_start_ = set_start_code(p, v_gate_for_target_V);
  set_floor_ = std::min(pc::gate_code(p.v_gate_start_V), set_start_);
  reset_start_ = pc::amp_code(p.v_reset_start_V);
  reset_step_ = pc::amp_code(p.v_reset_step_V);
  reset_max_ = pc::amp_code(p.v_reset_max_V);
  v_set_ = set_start_;
  v_reset_ = reset_start_;
}

std::uint32_t PvFsm::set_start_code(const PvParams& p, double v_gate_for_target_V) {
  return pc::gate_code(
      p.set_start == "target"
          ? std::clamp(v_gate_for_target_V - p.v_gate_backoff_V, 0.0, p.v_gate_max_V)
          : p.v_gate_start_V);
}

PvFsm::Action PvFsm::set(std::uint32_t code) {
  last_set_ = code;
  ++r_.n_set;
  last_ = Kind::set;
  return {Kind::set, code, pc::gate_volts(code)};
}

PvFsm::Action PvFsm::reset(std::uint32_t code) {
  last_reset_ = code;
  ++r_.n_reset;
  last_ = Kind::reset;
  return {Kind::reset, code, pc::amp_volts(code)};
}

PvFsm::Action PvFsm::on_verify_code(std::uint32_t adc_code) {
  if (done_) return {r_.success ? Kind::done_ok : Kind::done_fail, 0, 0.0};
  ++r_.n_verify;
  r_.g_final_uS = pc::verify_uS(adc_code);
  if (adc_code >= lo_ && adc_code <= hi_) {
    done_ = true;
    r_.success = true;
  } else if (r_.iterations >= p_.max_iterations) {
    done_ = true;
    r_.success = false;
  }
  if (done_) return {r_.success ? Kind::done_ok : Kind::done_fail, 0, 0.0};
  ++r_.iterations;
  if (ideal_ != nullptr && r_.iterations == 1) {
    // Ideal device: one calibrated pulse to the band's centre.
    const double target = 0.5 * (band_.lo_uS + band_.hi_uS);
    if (adc_code < lo_) return set(std::min(set_max_, pc::gate_code(ideal_->gate_for(target))));
    return reset(
        std::min(reset_max_, pc::amp_code(ideal_->reset_for(pc::verify_uS(adc_code), target))));
  }
  const auto back = static_cast<std::int64_t>(p_.reversal_backoff_steps);
  if (adc_code < lo_) {
    // Reversal after an overshoot: resume below the SET that overshot.
    if (last_ == Kind::reset && last_set_ >= 0)
      v_set_ = back_off(last_set_, back, set_step_, set_floor_);
    const std::uint32_t c = v_set_;
    v_set_ = std::min(set_max_, v_set_ + set_step_);
    return set(c);
  }
  if (last_ == Kind::set && last_reset_ >= 0)
    v_reset_ = back_off(last_reset_, back, reset_step_, reset_start_);
  const std::uint32_t c = v_reset_;
  v_reset_ = std::min(reset_max_, v_reset_ + reset_step_);
  return reset(c);
}

double clocked_s(double t_s, double f_clk_MHz) {
  if (f_clk_MHz <= 0) return t_s;
  const double f = f_clk_MHz * 1e6;
  return std::ceil(t_s * f - 1e-9) / f;
}

PvCosts clocked(PvCosts c, double f_clk_MHz) {
  c.t_verify_s = clocked_s(c.t_verify_s, f_clk_MHz);
  c.t_pulse_s = clocked_s(c.t_pulse_s, f_clk_MHz);
  return c;
}

double idle_start_s(double f_clk_MHz) {
  return f_clk_MHz > 0 ? static_cast<double>(kIdleStartCycles) / (f_clk_MHz * 1e6) : 0.0;
}

double pv_duration_s(const PvCosts& c, int n_set, int n_reset, int n_verify) {
  return (n_set + n_reset) * c.t_pulse_s + n_verify * c.t_verify_s;
}

double pv_energy_j(const PvCosts& c, int n_set, int n_reset, int n_verify) {
  return (n_set + n_reset) * c.e_pulse_J + n_verify * c.e_verify_J;
}

PvResult program_verify(device::DeviceArray& dev, std::size_t cell, double g_target_uS,
                        const PvBand& band, const PvParams& p, double t_start_s, const PvCosts& c) {
  PvFsm fsm(p, band, dev.gate_for(g_target_uS), ideal_or_null(dev));
  double t = t_start_s;
  for (;;) {
    t += c.t_verify_s;  // the read is sampled at the end of the verify
    const PvFsm::Action a = fsm.on_verify(dev.read(cell, t));
    if (a.kind == PvFsm::Kind::set) {
      t += c.t_pulse_s;
      dev.set_pulse(cell, a.voltage_V, t);
    } else if (a.kind == PvFsm::Kind::reset) {
      t += c.t_pulse_s;
      dev.reset_pulse(cell, a.voltage_V, t);
    } else {
      break;
    }
  }
  PvResult r = fsm.result();
  r.duration_s = pv_duration_s(c, r.n_set, r.n_reset, r.n_verify);
  r.energy_j = pv_energy_j(c, r.n_set, r.n_reset, r.n_verify);
  return r;
}

}  // namespace memplast::pv
