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
// The FSM works in the integer codes of the tile's programming port (tile/prog_codes.hpp):
// the verify read is an ADC code, the band limits are codes (nearest code of lo and
// hi; inside = lo_code <= code <= hi_code), the ramps run in DAC codes (start, step and
// maximum are the nearest codes of their keys' voltages), so an RTL controller fed the
// same codes takes the same decisions bit for bit.
// Time and energy of the events are the tile's (TileCore::verify_cost / pulse_cost from
// the tile.* keys): program_verify takes them as PvCosts.
// Equations, parameters and sources: docs/pv.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "device/device.hpp"
#include "pv/pv_params.hpp"
#include "tile/prog_codes.hpp"

namespace memplast::pv {

struct PvBand {
  double lo_uS{0};
  double hi_uS{0};
  // Band limits as verify ADC codes, and whether code / conductance g lies inside them.
  [[nodiscard]] std::uint32_t lo_code() const { return tile::prog::verify_code(lo_uS); }
  [[nodiscard]] std::uint32_t hi_code() const { return tile::prog::verify_code(hi_uS); }
  [[nodiscard]] bool contains_code(std::uint32_t code) const {
    return code >= lo_code() && code <= hi_code();
  }
  [[nodiscard]] bool contains(double g) const { return contains_code(tile::prog::verify_code(g)); }
};

// Duration and energy of one verify read and of one SET or RESET pulse (the tile's).
struct PvCosts {
  double t_verify_s{0};
  double t_pulse_s{0};
  double e_verify_J{0};
  double e_pulse_J{0};
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
    std::uint32_t code{0};  // gate DAC code (set) or amplitude DAC code (reset)
    double voltage_V{0};    // the code's voltage
  };

  // `v_gate_for_target` is the controller's calibrated gate voltage for the target
  // (DeviceArray::gate_for); used when set_start == "target".
  // `ideal`: the device's nominal laws (gate_for / reset_for) when it is an ideal
  // device, null otherwise; it must outlive the FSM.
  PvFsm(const PvParams& p, PvBand band, double v_gate_for_target_V,
        const device::DeviceArray* ideal = nullptr);

  // The gate DAC code of the first SET (the SET ramp's start) for the controller's
  // calibrated gate voltage: set_start = target: v_gate_for_target_V - v_gate_backoff_V
  // (clamped to [0, v_gate_max_V]), else v_gate_start_V.
  static std::uint32_t set_start_code(const PvParams& p, double v_gate_for_target_V);

  // Feed one verify read (ADC code); returns the next pulse, or done. The caller applies
  // the pulse, then verifies again and calls on_verify_code once more.
  Action on_verify_code(std::uint32_t adc_code);
  // The same for a read in uS (converted to its ADC code first).
  Action on_verify(double g_read_uS) { return on_verify_code(tile::prog::verify_code(g_read_uS)); }

  [[nodiscard]] const PvResult& result() const { return r_; }
  [[nodiscard]] bool done() const { return done_; }

 private:
  Action set(std::uint32_t code);
  Action reset(std::uint32_t code);

  const PvParams& p_;
  PvBand band_;
  std::uint32_t lo_{0};
  std::uint32_t hi_{0};
  const device::DeviceArray* ideal_{nullptr};
  // Ramps in DAC codes.
  std::uint32_t set_floor_{0};  // min(code of v_gate_start_V, set_start_)
  std::uint32_t set_start_{0};
  std::uint32_t set_step_{0};
  std::uint32_t set_max_{0};
  std::uint32_t reset_start_{0};
  std::uint32_t reset_step_{0};
  std::uint32_t reset_max_{0};
  std::uint32_t v_set_{0};
  std::uint32_t v_reset_{0};
  std::int64_t last_set_{-1};    // code of the last SET pulse (-1: none yet)
  std::int64_t last_reset_{-1};  // code of the last RESET pulse (-1: none yet)
  Kind last_{Kind::done_ok};     // last pulse kind (done_ok = none yet)
  bool done_{false};
  PvResult r_{};
};

// A controller of one device's P&V loop that runs in place of PvFsm inside pv_ctrl
// (rtl.pv: the Verilated pv_fsm, models/rtl/rtl_blocks.hpp). pv_ctrl hands it one device
// at a time and performs its events through the tile's programming port.
class PvLoop {
 public:
  enum class Op : std::uint8_t { verify = 0, set = 1, reset = 2 };
  // One event on the device: a verify read (returns its ADC code) or a pulse with its
  // DAC code (returns 0). Blocks for the event's simulated time.
  using Port = std::function<std::uint32_t(Op op, std::uint32_t dac_code)>;
  virtual ~PvLoop() = default;
  // The whole loop for one device (programming-port address `addr`): the band limits as
  // ADC codes (band.lo_code(), band.hi_code()), the first SET's gate DAC code. Returns
  // the counts, success and last read as PvFsm::result() would.
  virtual PvResult run(const PvBand& band, std::uint32_t set_start_code, std::uint32_t addr,
                       const Port& port) = 0;
};

// The ideal-device argument of PvFsm for `dev`: &dev when dev.params().ideal, else null.
inline const device::DeviceArray* ideal_or_null(const device::DeviceArray& dev) {
  return dev.params().ideal ? &dev : nullptr;
}

// Run the whole loop on cell `cell` of `dev`, starting at simulated time t_start_s;
// pulses and verifies happen at their simulated times (each event advances time by its
// duration in `c`; the read is sampled at the end of the verify, the pulse applied at
// the end of its width), through the same codes as the tile's programming port. Time
// and energy in the result are from `c`.
PvResult program_verify(device::DeviceArray& dev, std::size_t cell, double g_target_uS,
                        const PvBand& band, const PvParams& p, double t_start_s, const PvCosts& c);

// The time a controller clocked at f_clk_MHz (pv.f_clk_MHz; <= 0: unclocked) spends on
// an event of duration t_s: whole cycles, t_s rounded up to the next clock edge (a
// duration within 1e-9 of a cycle above a whole number counts as that number); t_s
// itself when unclocked.
double clocked_s(double t_s, double f_clk_MHz);
// `c` with both event times clocked (clocked_s); the energies unchanged.
PvCosts clocked(PvCosts c, double f_clk_MHz);

// Cycles a clocked controller takes from a command's arrival at an idle controller to
// its first device event: the queue write, then the pop (the RTL pv_fsm's cmd_valid ->
// first verify, docs/cosim.md). A command queued while another runs starts in the cycle
// after that one ends, without these.
inline constexpr int kIdleStartCycles = 2;
// kIdleStartCycles of f_clk_MHz in seconds; 0 when unclocked (f_clk_MHz <= 0).
double idle_start_s(double f_clk_MHz);

// Time and energy of a loop with these counts.
double pv_duration_s(const PvCosts& c, int n_set, int n_reset, int n_verify);
double pv_energy_j(const PvCosts& c, int n_set, int n_reset, int n_verify);

}  // namespace memplast::pv
