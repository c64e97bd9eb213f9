// The configuration pins of the Verilated pv_fsm (models/rtl/pv_fsm.sv) from pv_ctrl's
// parameters, in the integer codes the hardware uses (tile/prog_codes.hpp). Shared by the
// rtl.pv transactor (rtl_pv.cpp) and the co-simulation test (tb/cosim/test_pv_cosim.cpp),
// so that the test configures the RTL exactly as a training run does. Needs the Verilated
// model (memplast_vlt_pv_fsm).
#pragma once

#include <cstdint>

#include "Vpv_fsm.h"
#include "pv/pv_params.hpp"
#include "tile/prog_codes.hpp"

namespace memplast::rtl {

// Gate and RESET-amplitude ramps (start, step, maximum) as DAC codes, the reversal
// back-off and the iteration limit. The caller sets irq_enable, clk and reset.
inline void configure_pv_fsm(Vpv_fsm& top, const pv::PvParams& p) {
  namespace pc = tile::prog;
  top.cfg_gate_start = pc::gate_code(p.v_gate_start_V);
  top.cfg_gate_step = pc::gate_code(p.v_gate_step_V);
  top.cfg_gate_max = pc::gate_code(p.v_gate_max_V);
  top.cfg_reset_start = pc::amp_code(p.v_reset_start_V);
  top.cfg_reset_step = pc::amp_code(p.v_reset_step_V);
  top.cfg_reset_max = pc::amp_code(p.v_reset_max_V);
  top.cfg_backoff = static_cast<std::uint8_t>(p.reversal_backoff_steps);
  top.cfg_max_iter = static_cast<std::uint16_t>(p.max_iterations);
}

}  // namespace memplast::rtl
