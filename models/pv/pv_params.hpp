// Parameters of program-and-verify (keys pv.*): the ISPVA algorithm, its timing and
// energy, and pv_ctrl's queue. A plain aggregate whose member initializers are the
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
  // Timing and energy per event
  double t_set_ns{100.0};
  double t_reset_ns{100.0};
  double t_verify_ns{100.0};
  double e_set_pJ{10.0};
  double e_reset_pJ{20.0};
  double e_verify_pJ{1.0};
  // Controller (pv_ctrl): command queue capacity.
  std::int64_t queue_depth{64};
};

void bind_params(cfg::Schema& s, PvParams& p);

}  // namespace memplast::pv
