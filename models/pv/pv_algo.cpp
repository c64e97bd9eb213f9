#include "pv/pv_algo.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::pv {

void bind_params(cfg::Schema& s, PvParams& p) {
  s.add("pv.set_start", &p.set_start, "target", {"fixed", "target"},
        "Where each SET ramp starts: `fixed` = pv.v_gate_start_V; `target` = the calibrated "
        "gate voltage of the target conductance minus pv.v_gate_backoff_V (a per-level "
        "calibration table, as used with 1T1R multi-level programming)");
  s.add("pv.v_gate_start_V", &p.v_gate_start_V, 0.7, 0.0, 5.0, "V",
        "First gate voltage of a SET ramp when pv.set_start = fixed",
        "calibration.md: SET gate 0.7..1.6 V (bottom of the range)");
  s.add("pv.v_gate_backoff_V", &p.v_gate_backoff_V, 0.03, 0.0, 2.0, "V",
        "With pv.set_start = target: the ramp starts this far below the target's gate voltage",
        "assumption: about 7 uS below the target at mid-range (2 sigma of the per-pulse "
        "spread), so the first SET rarely overshoots");
  s.add("pv.v_gate_step_V", &p.v_gate_step_V, 0.01, 0.0, 1.0, "V",
        "Gate voltage increment per SET iteration",
        "assumption: about 2.5 uS per step at mid-range, below the band half-width");
  s.add("pv.v_gate_max_V", &p.v_gate_max_V, 1.6, 0.0, 5.0, "V",
        "Highest gate voltage of the SET ramp (the ramp saturates there)",
        "calibration.md: SET gate 0.7..1.6 V (top of the range)");
  s.add("pv.v_reset_start_V", &p.v_reset_start_V, 1.2, 0.0, 5.0, "V",
        "First source-line amplitude of a RESET ramp (and the floor of its back-off)",
        "assumption: at the nominal device RESET threshold (device.v_reset_th_V), so the first "
        "RESET steps are gentle; calibration.md gives 1.5..3 V for full RESETs");
  s.add("pv.v_reset_step_V", &p.v_reset_step_V, 0.02, 0.0, 2.0, "V",
        "RESET amplitude increment per RESET iteration",
        "assumption: about 4 % of G - g_min per step (device.v_reset_scale_V = 0.5 V), "
        "below the band half-width at the top level");
  s.add("pv.v_reset_max_V", &p.v_reset_max_V, 3.0, 0.0, 6.0, "V",
        "Highest RESET amplitude (the ramp saturates there)",
        "calibration.md: RESET 1.5..3 V on the source line (top of the range)");
  s.add("pv.reversal_backoff_steps", &p.reversal_backoff_steps, 2, 0, 1000, "steps",
        "On a reversal (overshoot), the ramp of the new direction resumes this many steps "
        "below its own last pulse",
        "assumption: without a back-off a cell whose device-to-device gain makes the first "
        "SET overshoot repeats the same SET/RESET cycle until the iteration limit");
  s.add("pv.max_iterations", &p.max_iterations, 100, 1, 100000, "pulses",
        "Iteration limit: the loop fails after this many pulses",
        "assumption: generous against the few-iteration mean, bounds the time of a stuck cell");
  s.add("pv.band_frac", &p.band_frac, 0.25, 0.0, 0.5, "of level spacing",
        "Half-width of the tolerance band of every level, as a fraction of the spacing "
        "between adjacent levels (0.5 = bands touch)",
        "assumption: half of the gap between levels is margin for relaxation and read noise");
  s.add("pv.band_frac_per_level", &p.band_frac_per_level, {}, 0.0, 0.5, 0, 64,
        "of level spacing",
        "Per-level band half-widths (index = level); empty = pv.band_frac for every level",
        "assumption: empty by default");
  s.add("pv.t_set_ns", &p.t_set_ns, 100.0, 0.0, 1e6, "ns", "Width of one SET pulse",
        "calibration.md: pulses 100 ns..1 us (estimate)");
  s.add("pv.t_reset_ns", &p.t_reset_ns, 100.0, 0.0, 1e6, "ns", "Width of one RESET pulse",
        "calibration.md: pulses 100 ns..1 us (estimate)");
  s.add("pv.t_verify_ns", &p.t_verify_ns, 100.0, 0.0, 1e6, "ns",
        "Time of one verify read (word-line activation, settling, sensing)",
        "assumption: 10 ns cell read (calibration.md) plus settling and a SAR conversion");
  s.add("pv.e_set_pJ", &p.e_set_pJ, 10.0, 0.0, 1e6, "pJ",
        "Energy of one SET pulse, V I t",
        "calibration.md: 1 V x 100 uA x 100 ns = 10 pJ (derived)");
  s.add("pv.e_reset_pJ", &p.e_reset_pJ, 20.0, 0.0, 1e6, "pJ",
        "Energy of one RESET pulse, V I t",
        "derived as calibration.md: 2 V x 100 uA x 100 ns = 20 pJ (assumption: 100 uA mean "
        "reset current)");
  s.add("pv.e_verify_pJ", &p.e_verify_pJ, 1.0, 0.0, 1e6, "pJ",
        "Energy of one verify read of one cell (driver, cell, sensing)",
        "derived from calibration.md: word-line driver 0.2..0.9 pJ + cell V^2 G t 20..90 fJ + "
        "sense 20..100 fJ, rounded up to 1 pJ");
  s.add("pv.queue_depth", &p.queue_depth, 64, 1, 1000000, "commands",
        "Capacity of the pv_ctrl command queue (commands waiting, not counting the one in "
        "progress); a push to a full queue is refused",
        "assumption: one 128-wide row of level changes of a 2-tile layer fits without stalling");
  s.add_check([&p] {
    if (p.v_gate_start_V > p.v_gate_max_V) {
      throw cfg::ConfigError(
          "keys 'pv.v_gate_start_V' and 'pv.v_gate_max_V': start must be <= max");
    }
    if (p.v_reset_start_V > p.v_reset_max_V) {
      throw cfg::ConfigError(
          "keys 'pv.v_reset_start_V' and 'pv.v_reset_max_V': start must be <= max");
    }
  });
}

PvBand band_for(double g_target_uS, double level_spacing_uS, const PvParams& p, int level) {
  double frac = p.band_frac;
  if (!p.band_frac_per_level.empty()) {
    if (level < 0 || static_cast<std::size_t>(level) >= p.band_frac_per_level.size()) {
      throw std::out_of_range(fmt::format(
          "pv.band_frac_per_level has {} entries, level {} has none",
          p.band_frac_per_level.size(), level));
    }
    frac = p.band_frac_per_level[static_cast<std::size_t>(level)];
  }
  const double hw = frac * level_spacing_uS;
  return {g_target_uS - hw, g_target_uS + hw};
}

PvFsm::PvFsm(const PvParams& p, PvBand band, double v_gate_for_target_V) : p_(p), band_(band) {
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
  PvFsm fsm(p, band, dev.gate_for(g_target_uS));
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
