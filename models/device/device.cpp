#include "device/device.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace memplast::device {

void bind_params(cfg::Schema& s, DeviceParams& p) {
  // Conductance range
  s.add("device.g_min_uS", &p.g_min_uS, 5.0, 0.0, 1e4, "uS",
        "Lowest conductance of the device (HRS); cells start here; stuck-at-HRS value",
        "assumption: HfO2 HRS of about 200 kOhm, below the 50 uS bottom of the Milo et al. "
        "programmed range");
  s.add("device.g_max_uS", &p.g_max_uS, 225.0, 0.0, 1e4, "uS",
        "Ceiling of the SET response (LRS); stuck-at-LRS value",
        "Milo et al., IRPS 2021: top of the 50..225 uS programmed range (calibration.md)");
  // SET
  s.add("device.vth_V", &p.vth_V, 0.45, 0.0, 3.0, "V",
        "Threshold voltage of the select transistor (square-law compliance model)",
        "assumption: chosen so gate 0.7..1.6 V gives 10..200 uA compliance (calibration.md, "
        "typical pulses)");
  s.add("device.k_tr_uA_per_V2", &p.k_tr_uA_per_V2, 151.0, 0.0, 1e5, "uA/V^2",
        "Square-law factor: I_cc = k_tr (V_gate - V_th)^2",
        "assumption: fitted to 10..200 uA compliance at gate 0.7..1.6 V, W = 650 nm (Moro et "
        "al., Nat. Commun. 2022; calibration.md)");
  s.add("device.k_g_uS_per_uA", &p.k_g_uS_per_uA, 1.25, 0.0, 100.0, "uS/uA",
        "SET conductance per compliance current: G_set = g_min + k_g I_cc (i.e. G ~ I_cc / "
        "0.8 V), clamped at g_max",
        "assumption: g_max = 225 uS is reached at 176 uA, inside the 10..200 uA compliance "
        "range (calibration.md), so cells with a weaker device-to-device gain still reach it");
  // RESET
  s.add("device.v_reset_th_V", &p.v_reset_th_V, 1.2, 0.0, 5.0, "V",
        "RESET threshold: source-line amplitudes below it leave the state unchanged",
        "assumption: below the 1.5..3 V RESET range of calibration.md");
  s.add("device.v_reset_scale_V", &p.v_reset_scale_V, 0.5, 1e-3, 10.0, "V",
        "RESET strength: G - g_min shrinks by exp(-(V - V_rth)/scale) per pulse",
        "assumption: a 3 V RESET brings g_max to within 3 % of g_min above it (full RESET at "
        "the top of the 1.5..3 V range, calibration.md)");
  // c2c
  s.add("device.sigma_slope", &p.sigma_slope, -0.009107, -1.0, 1.0, "uS/uS",
        "Slope of the programming error sigma_G(G) = slope G + offset",
        "Milo et al., IRPS 2021, as fitted in CrossSim (calibration.md)");
  s.add("device.sigma_offset_uS", &p.sigma_offset_uS, 4.782, 0.0, 1e3, "uS",
        "Offset of the programming error sigma_G(G) = slope G + offset",
        "Milo et al., IRPS 2021, as fitted in CrossSim (calibration.md)");
  s.add("device.sigma_fit_lo_uS", &p.sigma_fit_lo_uS, 50.0, 0.0, 1e4, "uS",
        "Lower end of the sigma_G fit's validity; G is clamped to it before evaluating",
        "Milo et al., IRPS 2021 (fit valid 50..225 uS)");
  s.add("device.sigma_fit_hi_uS", &p.sigma_fit_hi_uS, 225.0, 0.0, 1e4, "uS",
        "Upper end of the sigma_G fit's validity; G is clamped to it before evaluating",
        "Milo et al., IRPS 2021 (fit valid 50..225 uS)");
  s.add("device.c2c_scale", &p.c2c_scale, 1.0, 0.0, 100.0, "",
        "Scale of the cycle-to-cycle spread of each SET/RESET pulse (0 = deterministic "
        "pulses)",
        "assumption: the Milo et al. post-P&V error used as the per-pulse spread");
  // d2d
  s.add("device.d2d_gain_sigma", &p.d2d_gain_sigma, 0.05, 0.0, 1.0, "",
        "Relative sigma of the per-cell SET gain k_g (device-to-device)",
        "assumption: 5 % cell-to-cell spread of the G/I_cc ratio");
  s.add("device.d2d_vth_sigma_V", &p.d2d_vth_sigma_V, 0.02, 0.0, 1.0, "V",
        "Sigma of the per-cell select-transistor V_th offset (device-to-device)",
        "assumption: typical 130 nm V_th mismatch for W = 650 nm");
  s.add("device.d2d_vreset_sigma_V", &p.d2d_vreset_sigma_V, 0.05, 0.0, 1.0, "V",
        "Sigma of the per-cell RESET threshold offset (device-to-device)",
        "assumption");
  // read noise
  s.add("device.read_sigma_abs_uS", &p.read_sigma_abs_uS, 0.3, 0.0, 100.0, "uS",
        "Read noise: state-independent part of the sigma of one read",
        "assumption: sense-path noise floor");
  s.add("device.read_sigma_frac", &p.read_sigma_frac, 0.01, 0.0, 1.0, "",
        "Read noise: part of the sigma of one read proportional to G",
        "assumption: 1 % RTN/1-f noise; no read disturb (Valentian et al., IEDM 2019)");
  // relaxation
  s.add("device.relax_sigma_frac", &p.relax_sigma_frac, 0.10, 0.0, 1.0, "of g_max",
        "Sigma of the relaxation offset drawn at each programming pulse, as a fraction of g_max",
        "calibration.md: post-relaxation spread about 10 % of the maximum conductance "
        "(Esmanhotto et al., Adv. Intell. Syst. 2022, and work citing it)");
  s.add("device.relax_scale", &p.relax_scale, 1.0, 0.0, 100.0, "",
        "Multiplies relax_sigma_frac and relax_mean_frac (0 = no relaxation)",
        "assumption: knob for sensitivity studies");
  s.add("device.relax_mean_frac", &p.relax_mean_frac, 0.0, -1.0, 1.0, "of g_max",
        "Mean of the relaxation offset, as a fraction of g_max",
        "assumption: no systematic drift direction");
  s.add("device.relax_t0_s", &p.relax_t0_s, 1e-3, 1e-12, 1e9, "s",
        "Time constant of the relaxation profile log(1 + dt/t0) / log(1 + t_sat/t0)",
        "assumption: relaxation visible from milliseconds on");
  s.add("device.relax_tsat_s", &p.relax_tsat_s, 1e4, 1e-12, 1e12, "s",
        "Time after a write at which relaxation is complete (profile = 1)",
        "assumption: levels drift within hours (Esmanhotto et al., Adv. Intell. Syst. 2022)");
  // I-V
  s.add("device.nl_a2_per_V", &p.nl_a2_per_V, 0.0, -100.0, 100.0, "1/V",
        "I-V nonlinearity: I = G V (1 + a2 V + a3 V^2); 0 = linear",
        "assumption: off by default; CrossSim fits a2, a3 against log G for V <= 0.5 V");
  s.add("device.nl_a3_per_V2", &p.nl_a3_per_V2, 0.0, -100.0, 100.0, "1/V^2",
        "I-V nonlinearity cubic coefficient (see nl_a2_per_V)", "assumption: off by default");
  // endurance and faults
  s.add("device.endurance_median", &p.endurance_median, 3.16e5, 1.0, 4e9, "pulses",
        "Median per-cell endurance budget (SET + RESET pulses) of the log-normal distribution",
        "calibration.md: 1e5..1e6 cycles for multi-level use (geometric middle)");
  s.add("device.endurance_sigma_ln", &p.endurance_sigma_ln, 0.576, 0.0, 10.0, "",
        "Sigma of ln(budget)",
        "assumption: 1e5..1e6 as the +-2 sigma interval, ln(10)/4");
  s.add("device.stuck_lrs_prob", &p.stuck_lrs_prob, 0.5, 0.0, 1.0, "",
        "Probability that a worn-out or injected stuck cell sticks at LRS (else HRS)",
        "assumption");
  s.add("device.stuck_rate", &p.stuck_rate, 0.0, 0.0, 1.0, "",
        "Fraction of cells stuck from the start (drawn per cell at construction)",
        "assumption: healthy array by default");
  s.add_check([&p] {
    if (!(p.g_min_uS < p.g_max_uS)) {
      throw cfg::ConfigError(fmt::format(
          "keys 'device.g_min_uS' ({}) and 'device.g_max_uS' ({}): g_min must be < g_max",
          p.g_min_uS, p.g_max_uS));
    }
    if (!(p.sigma_fit_lo_uS <= p.sigma_fit_hi_uS)) {
      throw cfg::ConfigError(
          "keys 'device.sigma_fit_lo_uS' and 'device.sigma_fit_hi_uS': lo must be <= hi");
    }
    const double lo = p.sigma_slope * p.sigma_fit_lo_uS + p.sigma_offset_uS;
    const double hi = p.sigma_slope * p.sigma_fit_hi_uS + p.sigma_offset_uS;
    if (lo < 0 || hi < 0) {
      throw cfg::ConfigError(
          "keys 'device.sigma_slope' and 'device.sigma_offset_uS': sigma_G is negative inside "
          "the fit range");
    }
    if (!(p.relax_t0_s < p.relax_tsat_s)) {
      throw cfg::ConfigError("keys 'device.relax_t0_s' and 'device.relax_tsat_s': t0 must be < t_sat");
    }
  });
}

namespace {
float stuck_value(const DeviceParams& p, Stuck k) {
  return static_cast<float>(k == Stuck::at_lrs ? p.g_max_uS : p.g_min_uS);
}
}  // namespace

DeviceArray::DeviceArray(const DeviceParams& p, std::size_t n_cells, std::uint64_t seed)
    : p_(p),
      n_(n_cells),
      inv_log_sat_(1.0 / std::log1p(p.relax_tsat_s / p.relax_t0_s)),
      g_prog_(n_cells, static_cast<float>(p.g_min_uS)),
      relax_(n_cells, 0.0F),
      t_write_(n_cells, 0.0),
      gain_(n_cells, 1.0F),
      dvth_(n_cells, 0.0F),
      dvreset_(n_cells, 0.0F),
      pulses_(n_cells, 0),
      budget_(n_cells, 0),
      stuck_(n_cells, Stuck::none) {
  rng_.reserve(n_cells);
  for (std::size_t i = 0; i < n_cells; ++i) {
    // Device-to-device draws: their own per-cell stream, always the same number of
    // draws in the same order, so changing one spread does not move the others.
    Rng d2d(derive_seed(seed, "d2d", i));
    const double zg = d2d.normal();
    const double zv = d2d.normal();
    const double zr = d2d.normal();
    const double zb = d2d.normal();
    const double u_stuck = d2d.uniform();
    const double u_kind = d2d.uniform();
    gain_[i] = static_cast<float>(std::max(0.0, 1.0 + p.d2d_gain_sigma * zg));
    dvth_[i] = static_cast<float>(p.d2d_vth_sigma_V * zv);
    dvreset_[i] = static_cast<float>(p.d2d_vreset_sigma_V * zr);
    const double b = p.endurance_median * std::exp(p.endurance_sigma_ln * zb);
    budget_[i] = static_cast<std::uint32_t>(std::clamp(std::round(b), 1.0, 4.0e9));
    if (u_stuck < p.stuck_rate) {
      stuck_[i] = u_kind < p.stuck_lrs_prob ? Stuck::at_lrs : Stuck::at_hrs;
      g_prog_[i] = stuck_value(p, stuck_[i]);
    }
    rng_.emplace_back(derive_seed(seed, "cell", i));
  }
}

std::size_t DeviceArray::size() const { return n_; }
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

void DeviceArray::set_pulse(std::size_t i, double v_gate_V, double t_s) {
  ++pulses_[i];
  if (stuck_[i] != Stuck::none) return;
  if (pulses_[i] > budget_[i]) {
    wear_out(i, t_s);
    return;
  }
  const double ov = std::max(0.0, v_gate_V - p_.vth_V - static_cast<double>(dvth_[i]));
  const double icc = p_.k_tr_uA_per_V2 * ov * ov;
  const double g_target =
      std::min(p_.g_max_uS, p_.g_min_uS + p_.k_g_uS_per_uA * static_cast<double>(gain_[i]) * icc);
  const double z = rng_[i].normal();
  const double g_drawn = g_target + prog_sigma(g_target) * z;
  const double g_old = g_prog_[i];
  // A SET cannot lower the conductance: a compliance below the present state's current
  // leaves the filament as it is (the state is still rewritten: fresh relaxation draw).
  after_pulse(i, std::max(g_old, g_drawn), t_s);
}

void DeviceArray::reset_pulse(std::size_t i, double v_reset_V, double t_s) {
  ++pulses_[i];
  if (stuck_[i] != Stuck::none) return;
  if (pulses_[i] > budget_[i]) {
    wear_out(i, t_s);
    return;
  }
  const double ov = std::max(0.0, v_reset_V - p_.v_reset_th_V - static_cast<double>(dvreset_[i]));
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
  return g_uS * v_V * (1.0 + p_.nl_a2_per_V * v_V + p_.nl_a3_per_V2 * v_V * v_V);
}

double DeviceArray::current(std::size_t i, double v_V, double t_s) const {
  return current_of(conductance(i, t_s), v_V);
}

std::uint32_t DeviceArray::budget(std::size_t i) const { return budget_[i]; }
double DeviceArray::last_write_s(std::size_t i) const { return t_write_[i]; }
double DeviceArray::programmed(std::size_t i) const { return g_prog_[i]; }
double DeviceArray::relax_offset(std::size_t i) const { return relax_[i]; }
double DeviceArray::d2d_gain(std::size_t i) const { return gain_[i]; }
double DeviceArray::d2d_vth_V(std::size_t i) const { return dvth_[i]; }

std::size_t DeviceArray::stuck_count() const {
  return static_cast<std::size_t>(
      std::count_if(stuck_.begin(), stuck_.end(), [](Stuck s) { return s != Stuck::none; }));
}

}  // namespace memplast::device
