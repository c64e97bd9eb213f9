// Configuration keys "device.*" of the 1T1R device model.
#include "device/device_params.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

namespace memplast::device {

DeviceParams without_spread(DeviceParams p) {
  p.c2c_scale = 0;
  p.d2d_gain_sigma = 0;
  p.d2d_vth_sigma_V = 0;
  p.d2d_vreset_sigma_V = 0;
  p.read_sigma_abs_uS = 0;
  p.read_sigma_frac = 0;
  p.relax_scale = 0;
  return p;
}

DeviceParams ideal_params(DeviceParams p) {
  p = without_spread(p);
  p.sigma_slope = 0;
  p.sigma_offset_uS = 0;
  p.relax_mean_frac = 0;
  p.relax_sigma_frac = 0;
  p.nl_a2_per_V = 0;
  p.nl_a3_per_V2 = 0;
  p.read_disturb_rate = 0;
  p.endurance_median = 4e9;
  p.endurance_sigma_ln = 0;
  p.stuck_rate = 0;
  p.stuck_cells.clear();
  p.ideal = true;
  return p;
}

std::vector<StuckCellSpec> parse_stuck_cells(const std::string& text) {
  std::vector<StuckCellSpec> out;
  std::stringstream all(text);
  std::string entry;
  while (std::getline(all, entry, ';')) {
    const auto b = entry.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    entry = entry.substr(b, entry.find_last_not_of(" \t") - b + 1);
    const auto bad = [&](const std::string& why) {
      return cfg::ConfigError(fmt::format(
          "key 'device.stuck_cells': entry '{}': {} (expected tile:row:col:pos|neg:lrs|hrs[@t_s])",
          entry, why));
    };
    StuckCellSpec c;
    std::string body = entry;
    if (const auto at = entry.find('@'); at != std::string::npos) {
      body = entry.substr(0, at);
      try {
        std::size_t used = 0;
        c.t_s = std::stod(entry.substr(at + 1), &used);
        if (used != entry.size() - at - 1) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw bad("the time after '@' is not a number");
      }
      if (!(c.t_s >= 0) || c.t_s > 1e12) throw bad("the time must be in [0, 1e12] s");
    }
    std::vector<std::string> f;
    std::stringstream parts(body);
    std::string part;
    while (std::getline(parts, part, ':')) f.push_back(part);
    if (f.size() != 5) throw bad(fmt::format("{} fields, expected 5", f.size()));
    c.tile = f[0];
    if (c.tile.empty()) throw bad("empty tile name");
    for (int k = 1; k <= 2; ++k) {
      const auto& v = f[static_cast<std::size_t>(k)];
      if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos)
        throw bad(
            fmt::format("{} '{}' is not a small non-negative integer", k == 1 ? "row" : "col", v));
      (k == 1 ? c.row : c.col) = std::stoi(v);
    }
    if (f[3] != "pos" && f[3] != "neg") throw bad(fmt::format("side '{}' is not pos or neg", f[3]));
    if (f[4] != "lrs" && f[4] != "hrs") throw bad(fmt::format("kind '{}' is not lrs or hrs", f[4]));
    c.neg = f[3] == "neg";
    c.lrs = f[4] == "lrs";
    out.push_back(c);
  }
  return out;
}

void bind_params(cfg::Schema& s, DeviceParams& p) {
  // Conductance range
  s.add("device.g_min_uS", &p.g_min_uS, 0.0, 1e4, "uS",
        "Lowest conductance of the device (HRS); cells start here; stuck-at-HRS value",
        "assumption: HfO2 HRS of about 200 kOhm, below the 50 uS bottom of the Milo et al. "
        "programmed range");
  s.add("device.g_max_uS", &p.g_max_uS, 0.0, 1e4, "uS",
        "Ceiling of the SET response (LRS); stuck-at-LRS value",
        "Milo et al., IRPS 2021: top of the 50..225 uS programmed range (calibration.md)");
  // SET
  s.add("device.vth_V", &p.vth_V, 0.0, 3.0, "V",
        "Threshold voltage of the select transistor (square-law compliance model)",
        "assumption: chosen so gate 0.7..1.6 V gives 10..200 uA compliance (calibration.md, "
        "typical pulses)");
  s.add("device.k_tr_uA_per_V2", &p.k_tr_uA_per_V2, 0.0, 1e5, "uA/V^2",
        "Square-law factor: I_cc = k_tr (V_gate - V_th)^2",
        "assumption: fitted to 10..200 uA compliance at gate 0.7..1.6 V, W = 650 nm (Moro et "
        "al., Nat. Commun. 2022; calibration.md)");
  s.add("device.k_g_uS_per_uA", &p.k_g_uS_per_uA, 0.0, 100.0, "uS/uA",
        "SET conductance per compliance current: G_set = g_min + k_g I_cc (i.e. G ~ I_cc / "
        "0.8 V), clamped at g_max",
        "assumption: g_max = 225 uS is reached at 176 uA, inside the 10..200 uA compliance "
        "range (calibration.md), so cells with a weaker device-to-device gain still reach it");
  // RESET
  s.add("device.v_reset_th_V", &p.v_reset_th_V, 0.0, 5.0, "V",
        "RESET threshold: source-line amplitudes below it leave the state unchanged",
        "assumption: below the 1.5..3 V RESET range of calibration.md");
  s.add("device.v_reset_scale_V", &p.v_reset_scale_V, 1e-3, 10.0, "V",
        "RESET strength: G - g_min shrinks by exp(-(V - V_rth)/scale) per pulse",
        "assumption: a 3 V RESET brings g_max to within 3 % of g_min above it (full RESET at "
        "the top of the 1.5..3 V range, calibration.md)");
  // c2c
  s.add("device.sigma_slope", &p.sigma_slope, -1.0, 1.0, "uS/uS",
        "Slope of the programming error sigma_G(G) = slope G + offset",
        "Milo et al., IRPS 2021, as fitted in CrossSim (calibration.md)");
  s.add("device.sigma_offset_uS", &p.sigma_offset_uS, 0.0, 1e3, "uS",
        "Offset of the programming error sigma_G(G) = slope G + offset",
        "Milo et al., IRPS 2021, as fitted in CrossSim (calibration.md)");
  s.add("device.sigma_fit_lo_uS", &p.sigma_fit_lo_uS, 0.0, 1e4, "uS",
        "Lower end of the sigma_G fit's validity; G is clamped to it before evaluating",
        "Milo et al., IRPS 2021 (fit valid 50..225 uS)");
  s.add("device.sigma_fit_hi_uS", &p.sigma_fit_hi_uS, 0.0, 1e4, "uS",
        "Upper end of the sigma_G fit's validity; G is clamped to it before evaluating",
        "Milo et al., IRPS 2021 (fit valid 50..225 uS)");
  s.add("device.c2c_scale", &p.c2c_scale, 0.0, 100.0, "",
        "Scale of the cycle-to-cycle spread of each SET/RESET pulse (0 = deterministic "
        "pulses)",
        "assumption: the Milo et al. post-P&V error used as the per-pulse spread");
  // d2d
  s.add("device.d2d_gain_sigma", &p.d2d_gain_sigma, 0.0, 1.0, "",
        "Relative sigma of the per-cell SET gain k_g (device-to-device)",
        "assumption: 5 % cell-to-cell spread of the G/I_cc ratio");
  s.add("device.d2d_vth_sigma_V", &p.d2d_vth_sigma_V, 0.0, 1.0, "V",
        "Sigma of the per-cell select-transistor V_th offset (device-to-device)",
        "assumption: typical 130 nm V_th mismatch for W = 650 nm");
  s.add("device.d2d_vreset_sigma_V", &p.d2d_vreset_sigma_V, 0.0, 1.0, "V",
        "Sigma of the per-cell RESET threshold offset (device-to-device)", "assumption");
  // read noise
  s.add("device.read_sigma_abs_uS", &p.read_sigma_abs_uS, 0.0, 100.0, "uS",
        "Read noise: state-independent part of the sigma of one read",
        "assumption: sense-path noise floor");
  s.add("device.read_sigma_frac", &p.read_sigma_frac, 0.0, 1.0, "",
        "Read noise: part of the sigma of one read proportional to G",
        "assumption: 1 % RTN/1-f noise; no read disturb (Valentian et al., IEDM 2019)");
  // relaxation
  s.add("device.relax_sigma_frac", &p.relax_sigma_frac, 0.0, 1.0, "of g_max",
        "Sigma of the relaxation offset drawn at each programming pulse, as a fraction of g_max",
        "calibration.md: post-relaxation spread about 10 % of the maximum conductance "
        "(Esmanhotto et al., Adv. Intell. Syst. 2022, and work citing it)");
  s.add("device.relax_scale", &p.relax_scale, 0.0, 100.0, "",
        "Multiplies relax_sigma_frac and relax_mean_frac (0 = no relaxation)",
        "assumption: knob for sensitivity studies");
  s.add("device.relax_mean_frac", &p.relax_mean_frac, -1.0, 1.0, "of g_max",
        "Mean of the relaxation offset, as a fraction of g_max",
        "assumption: no systematic drift direction");
  s.add("device.relax_t0_s", &p.relax_t0_s, 1e-12, 1e9, "s",
        "Time constant of the relaxation profile log(1 + dt/t0) / log(1 + t_sat/t0)",
        "assumption: relaxation visible from milliseconds on");
  s.add("device.relax_tsat_s", &p.relax_tsat_s, 1e-12, 1e12, "s",
        "Time after a write at which relaxation is complete (profile = 1)",
        "assumption: levels drift within hours (Esmanhotto et al., Adv. Intell. Syst. 2022)");
  // I-V
  s.add("device.nl_a2_per_V", &p.nl_a2_per_V, -100.0, 100.0, "1/V",
        "I-V nonlinearity: I = G V (1 + a2 V + a3 V^2), a2 at LRS (g_max; see nl_hrs_factor); "
        "0 = linear. The tile applies it in its MVMs (differential mapping; docs/tile.md)",
        "assumption: off by default; CrossSim fits a2, a3 against log G for V <= 0.5 V");
  s.add("device.nl_a3_per_V2", &p.nl_a3_per_V2, -100.0, 100.0, "1/V^2",
        "I-V nonlinearity cubic coefficient at LRS (see nl_a2_per_V, nl_hrs_factor)",
        "assumption: off by default");
  s.add("device.nl_hrs_factor", &p.nl_hrs_factor, 0.0, 100.0, "",
        "I-V coefficients at HRS (g_min) over those at LRS (g_max); interpolated linearly in "
        "log G between them (docs/device.md); 1 = independent of G",
        "assumption: 1 keeps the former G-independent law; HRS conduction is the more "
        "nonlinear (docs/device.md)");
  // read disturb
  s.add("device.read_disturb_rate", &p.read_disturb_rate, 0.0, 1e-3, "1/read",
        "Read disturb: fraction of the distance to g_max a cell moves per read at "
        "read_disturb_v_ref_V; 0 = off (docs/device.md)",
        "assumption bounded by public data: 1e-11 is the largest rate compatible with no "
        "visible disturb after 7.5e8 reads (Valentian et al., IEDM 2019; calibration.md)");
  s.add("device.read_disturb_v_ref_V", &p.read_disturb_v_ref_V, 0.01, 5.0, "V",
        "Read disturb: cell voltage at which read_disturb_rate applies",
        "calibration.md: read 0.1..0.3 V (the tile's default v_read)");
  s.add("device.read_disturb_v_accel_V", &p.read_disturb_v_accel_V, 1e-3, 10.0, "V",
        "Read disturb: voltage acceleration, the rate grows e-fold per this much more |V|",
        "assumption: field-accelerated ion motion, a decade per 0.115 V");
  s.add("device.read_disturb_sigma", &p.read_disturb_sigma, 0.0, 10.0, "",
        "Read disturb: relative cell-to-cell spread of each application of the law", "assumption");
  // endurance and faults
  s.add("device.endurance_median", &p.endurance_median, 1.0, 4e9, "pulses",
        "Median per-cell endurance budget (SET + RESET pulses) of the log-normal distribution",
        "calibration.md: 1e5..1e6 cycles for multi-level use (geometric middle)");
  s.add("device.endurance_sigma_ln", &p.endurance_sigma_ln, 0.0, 10.0, "", "Sigma of ln(budget)",
        "assumption: 1e5..1e6 as the +-2 sigma interval, ln(10)/4");
  s.add("device.stuck_lrs_prob", &p.stuck_lrs_prob, 0.0, 1.0, "",
        "Probability that a worn-out or injected stuck cell sticks at LRS (else HRS)",
        "assumption");
  s.add("device.stuck_rate", &p.stuck_rate, 0.0, 1.0, "",
        "Fraction of cells stuck from the start (drawn per cell at construction)",
        "assumption: healthy array by default");
  s.add("device.stuck_cells", &p.stuck_cells, {},
        "Cells stuck at given places and times (fault injection), entries separated by ';': "
        "`tile:row:col:side:kind[@t_s]`, e.g. `layer0_t3:12:40:pos:lrs@0.5` (tile as named "
        "`layer<l>_t<k>`, column physical: spare columns follow the weight columns, side "
        "`pos` or `neg`, kind `lrs` or `hrs`, t_s the simulated time it sticks, default 0). "
        "Ignored with device.ideal. See docs/reliability.md",
        "fault injection; empty = none");
  s.add("device.ideal", &p.ideal,
        "true: ideal devices (no device-to-device or cycle-to-cycle spread, no read noise, no "
        "relaxation, linear I-V, no stuck cells or wear-out; the nominal SET/RESET laws "
        "remain), so program-and-verify lands a device in its band with one calibrated pulse. "
        "The hardware mode sets it when train.device_effects is false",
        "modelling switch: the software baseline's devices on the hardware path");
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
    (void)parse_stuck_cells(p.stuck_cells);
    if (!(p.relax_t0_s < p.relax_tsat_s)) {
      throw cfg::ConfigError(
          "keys 'device.relax_t0_s' and 'device.relax_tsat_s': t0 must be < t_sat");
    }
  });
}

IvCoeffs iv_coeffs(const DeviceParams& p, double g_uS) {
  if (p.nl_hrs_factor == 1.0) return {p.nl_a2_per_V, p.nl_a3_per_V2};
  double t = 0;
  if (g_uS > p.g_min_uS)
    t = std::min(1.0, std::log(g_uS / p.g_min_uS) / std::log(p.g_max_uS / p.g_min_uS));
  const double s = 1.0 + (p.nl_hrs_factor - 1.0) * (1.0 - t);
  return {p.nl_a2_per_V * s, p.nl_a3_per_V2 * s};
}

}  // namespace memplast::device
