// Parameters of program-and-verify (keys pv.*): the ISPVA algorithm and pv_ctrl's
// queue. A plain aggregate whose member initializers are the
// keys' defaults. See docs/pv.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/schema.hpp"

namespace memplast::pv {

struct PvParams {
  // SET ramp (gate voltage of the select transistor = compliance)
  std::string set_start{"target"};  // "fixed": v_gate_start_V; "target": gate_for(g) - backoff
  double v_gate_start_V{0.7};
  double v_gate_backoff_V{0.03};
  double v_gate_step_V{0.01};
  double v_gate_max_V{1.6};
  // RESET ramp (source-line amplitude)
  double v_reset_start_V{1.2};
  double v_reset_step_V{0.02};
  double v_reset_max_V{3.0};
  std::int64_t reversal_backoff_steps{2};
  std::int64_t max_iterations{100};
  // Tolerance band half-width as a fraction of the level spacing (per level if the list
  // is non-empty).
  double band_frac{0.25};
  std::vector<double> band_frac_per_level;
  // Timing and energy per event are the tile's (tile.t_pulse_ns, tile.e_pulse_pJ and
  // the converter keys of the verify read): the former pv.t_*_ns and pv.e_*_pJ keys are
  // removed and refused by name.
  // Controller (pv_ctrl): command queue capacity.
  std::int64_t queue_depth{64};
  // Controller clock: > 0: every verify and pulse takes whole cycles of it (the tile's
  // latency rounded up, as a synchronous controller sees the device's ack; a command
  // reaching an idle controller starts pv::kIdleStartCycles later); 0: unclocked.
  double f_clk_MHz{100.0};
  // meta_unit -> pv_ctrl command path: "link" (dedicated point-to-point link, PvLink)
  // or "bus" (the system bus, pv_ctrl's CMDQ window), each with its latency and energy.
  std::string cmd_path{"link"};
  double link_latency_ns{5.0};
  double link_energy_pJ{0.3};
  double bus_cmd_energy_pJ{1.0};
};

void bind_params(cfg::Schema& s, PvParams& p);

}  // namespace memplast::pv
