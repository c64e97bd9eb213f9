// The Verilated RTL blocks of models/rtl behind the C++ models' interfaces (issue 13
// item 3, docs/cosim.md). Built only with Verilator (MEMPLAST_WITH_VERILATOR); not part
// of the exported model libraries.
//  * make_meta_engine: a meta::MetaEngine whose STEP runs on meta_update.sv, one weight
//    per RTL clock, over the state of a FixedEngine (which keeps ACCUMULATE, NEW_TASK,
//    the checkpoint and the accessors). meta_unit uses it in place of make_engine().
//  * make_pv_loop: a pv::PvLoop that steps pv_fsm.sv clock by clock; its pin-level
//    device requests (dev_req, dev_op, dev_code) become pv_ctrl's programming-port
//    transactions, and the verify's ADC code is returned on dev_adc with dev_ack.
//  * install(): registers both with system::set_rtl_blocks, so rtl.meta / rtl.pv work.
#pragma once

#include <cstddef>
#include <memory>

#include "meta/meta_core.hpp"
#include "pv/pv_algo.hpp"

namespace memplast::rtl {

// Throws cfg::ConfigError naming the key when p is outside what the RTL was built for
// (meta.arithmetic = fixed, the default meta.* number formats, at most 8 levels).
std::unique_ptr<meta::MetaEngine> make_meta_engine(const meta::MetaParams& p, std::size_t n);
// Throws cfg::ConfigError naming the key when a pv.* value does not fit the RTL's
// configuration inputs.
std::unique_ptr<pv::PvLoop> make_pv_loop(const pv::PvParams& p);
void install();

}  // namespace memplast::rtl
