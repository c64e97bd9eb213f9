// Incremental-step program-and-verify (ISPVA) algorithm core (plain C++, no SystemC).
//
// One cell of a device::DeviceArray is brought into a conductance band [lo, hi]:
//   verify read; inside the band -> done; below -> SET pulse with the gate voltage of
//   the SET ramp, which then rises by v_gate_step_V (capped at v_gate_max_V); above ->
//   RESET pulse with the amplitude of the RESET ramp, which then rises by v_reset_step_V
//   (capped at v_reset_max_V). When the direction reverses (an overshoot), the ramp of
//   the new direction resumes from the voltage of its own last pulse minus
//   reversal_backoff_steps steps (not below its floor: v_gate_start_V for SET,
//   v_reset_start_V for RESET), so a cell that overshoots is approached more gently
//   each time instead of repeating the same overshoot. Stops inside the band (success) or after
//   max_iterations pulses (failure). An iteration = one pulse; every iteration is
//   preceded by a verify, and a final verify closes the loop, so
//   n_verify = iterations + 1.
// On an ideal device (device.ideal) the controller's calibration is exact, so the first
// pulse is calibrated instead of ramped: a SET at gate_for(target) (no backoff), a
// RESET at reset_for(read, target) capped at v_reset_max_V; the cell then lands in its
// band (n_set + n_reset = 1, n_verify = 2: the verify that found it off target and the
// closing one). A later pulse, if any, follows the ramps above.
// The step-wise form (PvFsm) is what a timed controller (pv_ctrl) drives: it issues the
// verify read itself and feeds the result to on_verify(), which returns the next action.
// Equations, parameters and sources: docs/pv.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "device/device.hpp"
#include "pv/pv_params.hpp"

namespace memplast::pv {

struct PvBand {
  double lo_uS{0};
  double hi_uS{0};
  [[nodiscard]] bool contains(double g) const { return g >= lo_uS && g <= hi_uS; }
};

// Band of a target: g_target +- frac * level_spacing, frac = band_frac_per_level[level]
// when that list is non-empty (level must index it), else band_frac.
PvBand band_for(double g_target_uS, double level_spacing_uS, const PvParams& p, int level = -1);

struct PvResult {
  int iterations{0};
  int n_set{0};
  int n_reset{0};
  int n_verify{0};
  double g_final_uS{0};  // the last verify read
  bool success{false};
  double duration_s{0};
  double energy_j{0};
};

// Step-wise ISPVA state machine.
class PvFsm {
 public:
  enum class Kind : std::uint8_t { set, reset, done_ok, done_fail };
  struct Action {
    Kind kind{Kind::done_fail};
    double voltage_V{0};  // gate voltage (set) or source-line amplitude (reset)
  };

  // `v_gate_for_target` is the controller's calibrated gate voltage for the target
  // (DeviceArray::gate_for); used when set_start == "target".
  // `ideal`: the device's nominal laws (gate_for / reset_for) when it is an ideal
  // device, null otherwise; it must outlive the FSM.
  PvFsm(const PvParams& p, PvBand band, double v_gate_for_target_V,
        const device::DeviceArray* ideal = nullptr);

  // Feed one verify read; returns the next pulse, or done. The caller applies the
  // pulse, then verifies again and calls on_verify once more.
  Action on_verify(double g_read_uS);

  [[nodiscard]] const PvResult& result() const { return r_; }
  [[nodiscard]] bool done() const { return done_; }

 private:
  const PvParams& p_;
  PvBand band_;
  const device::DeviceArray* ideal_{nullptr};
  double v_set_start_{0};
  double v_set_{0};
  double v_reset_{0};
  double last_set_V_{-1};     // voltage of the last SET pulse (-1: none yet)
  double last_reset_V_{-1};   // amplitude of the last RESET pulse (-1: none yet)
  Kind last_{Kind::done_ok};  // last pulse kind (done_ok = none yet)
  bool done_{false};
  PvResult r_{};
};

// The ideal-device argument of PvFsm for `dev`: &dev when dev.params().ideal, else null.
inline const device::DeviceArray* ideal_or_null(const device::DeviceArray& dev) {
  return dev.params().ideal ? &dev : nullptr;
}

// Run the whole loop on cell `cell` of `dev`, starting at simulated time t_start_s;
// pulses and verifies happen at their simulated times (each event advances time by its
// width). Time and energy in the result are from PvParams.
PvResult program_verify(device::DeviceArray& dev, std::size_t cell, double g_target_uS,
                        const PvBand& band, const PvParams& p, double t_start_s);

// Time and energy of a loop with these counts.
double pv_duration_s(const PvParams& p, int n_set, int n_reset, int n_verify);
double pv_energy_j(const PvParams& p, int n_set, int n_reset, int n_verify);

}  // namespace memplast::pv
