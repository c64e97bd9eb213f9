// Configuration keys "pv.*" of program-and-verify.
#include "pv/pv_params.hpp"

#include <fmt/format.h>

namespace memplast::pv {

void bind_params(cfg::Schema& s, PvParams& p) {
  s.add("pv.set_start", &p.set_start, {"fixed", "target"},
        "Where each SET ramp starts: `fixed` = pv.v_gate_start_V; `target` = the calibrated "
        "gate voltage of the target conductance minus pv.v_gate_backoff_V (a per-level "
        "calibration table, as used with 1T1R multi-level programming)");
  s.add("pv.v_gate_start_V", &p.v_gate_start_V, 0.0, 5.0, "V",
        "First gate voltage of a SET ramp when pv.set_start = fixed",
        "calibration.md: SET gate 0.7..1.6 V (bottom of the range)");
  s.add("pv.v_gate_backoff_V", &p.v_gate_backoff_V, 0.0, 2.0, "V",
        "With pv.set_start = target: the ramp starts this far below the target's gate voltage",
        "assumption: about 7 uS below the target at mid-range (2 sigma of the per-pulse "
        "spread), so the first SET rarely overshoots");
  s.add("pv.v_gate_step_V", &p.v_gate_step_V, 0.0, 1.0, "V",
        "Gate voltage increment per SET iteration",
        "assumption: about 2.5 uS per step at mid-range, below the band half-width");
  s.add("pv.v_gate_max_V", &p.v_gate_max_V, 0.0, 5.0, "V",
        "Highest gate voltage of the SET ramp (the ramp saturates there)",
        "calibration.md: SET gate 0.7..1.6 V (top of the range)");
  s.add("pv.v_reset_start_V", &p.v_reset_start_V, 0.0, 5.0, "V",
        "First source-line amplitude of a RESET ramp (and the floor of its back-off)",
        "assumption: at the nominal device RESET threshold (device.v_reset_th_V), so the first "
        "RESET steps are gentle; calibration.md gives 1.5..3 V for full RESETs");
  s.add("pv.v_reset_step_V", &p.v_reset_step_V, 0.0, 2.0, "V",
        "RESET amplitude increment per RESET iteration",
        "assumption: about 4 % of G - g_min per step (device.v_reset_scale_V = 0.5 V), "
        "below the band half-width at the top level");
  s.add("pv.v_reset_max_V", &p.v_reset_max_V, 0.0, 6.0, "V",
        "Highest RESET amplitude (the ramp saturates there)",
        "calibration.md: RESET 1.5..3 V on the source line (top of the range)");
  s.add("pv.reversal_backoff_steps", &p.reversal_backoff_steps, 0, 1000, "steps",
        "On a reversal (overshoot), the ramp of the new direction resumes this many steps "
        "below its own last pulse",
        "assumption: without a back-off a cell whose device-to-device gain makes the first "
        "SET overshoot repeats the same SET/RESET cycle until the iteration limit");
  s.add("pv.f_clk_MHz", &p.f_clk_MHz, 0.0, 10000.0, "MHz",
        "Clock of the program-and-verify controller: > 0: each verify read and pulse takes "
        "whole cycles of it, the tile's latency rounded up to the next edge (as a synchronous "
        "controller, e.g. the RTL pv_fsm, sees the device's ack), and a command reaching an "
        "idle controller starts 2 cycles later (queue write, pop; docs/cosim.md); 0: "
        "unclocked, each event takes exactly the tile's latency",
        "assumption: the digital clock of the 130 nm blocks (meta.f_clk_MHz, tile.f_clk_MHz); "
        "the RTL pv_fsm's cycle counts equal the model's at this clock (PvCosim.CycleTable)");
  s.add("pv.max_iterations", &p.max_iterations, 1, 100000, "pulses",
        "Iteration limit: the loop fails after this many pulses",
        "assumption: generous against the few-iteration mean, bounds the time of a stuck cell");
  s.add("pv.band_frac", &p.band_frac, 0.0, 0.5, "of level spacing",
        "Half-width of the tolerance band of every level, as a fraction of the spacing "
        "between adjacent levels (0.5 = bands touch)",
        "assumption: half of the gap between levels is margin for relaxation and read noise");
  s.add("pv.band_frac_per_level", &p.band_frac_per_level, 0.0, 0.5, 0, 64, "of level spacing",
        "Per-level band half-widths (index = level); empty = pv.band_frac for every level",
        "assumption: empty by default");
  for (const char* k : {"pv.t_set_ns", "pv.t_reset_ns", "pv.e_set_pJ", "pv.e_reset_pJ"}) {
    s.add_removed(k,
                  "the tile times and charges its SET and RESET pulses (tile.t_pulse_ns, "
                  "tile.e_pulse_pJ); see docs/system.md");
  }
  for (const char* k : {"pv.t_verify_ns", "pv.e_verify_pJ"}) {
    s.add_removed(k,
                  "the tile times and charges the verify read from its converter keys "
                  "(tile.t_dac_ns, tile.t_settle_ns, tile.f_adc_MHz, tile.adc_bits, ...); see "
                  "docs/system.md");
  }
  s.add("pv.queue_depth", &p.queue_depth, 1, 1000000, "commands",
        "Capacity of the pv_ctrl command queue (commands waiting, not counting the one in "
        "progress); a push to a full queue is refused",
        "assumption: one 128-wide row of level changes of a 2-tile layer fits without stalling");
  s.add("pv.cmd_path", &p.cmd_path, {"link", "bus"},
        "How meta_unit's level-change commands reach pv_ctrl's queue: `link` = a dedicated "
        "point-to-point TLM link (pv.link_latency_ns, pv.link_energy_pJ); `bus` = 8-byte "
        "writes through the system bus to pv_ctrl's CMDQ window (bus.* timing, contending "
        "with the host; pv.bus_cmd_energy_pJ)");
  s.add("pv.link_latency_ns", &p.link_latency_ns, 0.0, 1e6, "ns",
        "Latency of one command over the meta_unit -> pv_ctrl point-to-point link",
        "assumption: one register stage at 200 MHz");
  s.add("pv.link_energy_pJ", &p.link_energy_pJ, 0.0, 1e6, "pJ",
        "Energy of one command (64 bits) over the point-to-point link",
        "assumption: about 5 fJ per bit on a short on-chip wire");
  s.add("pv.bus_cmd_energy_pJ", &p.bus_cmd_energy_pJ, 0.0, 1e6, "pJ",
        "Energy of one command (one 8-byte bus write) when pv.cmd_path = bus, charged by "
        "meta_unit as the initiator",
        "assumption: two 32-bit beats on the system bus");
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

}  // namespace memplast::pv
