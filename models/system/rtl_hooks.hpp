// The RTL blocks a build can put in place of C++ models (rtl.meta, rtl.pv; docs/cosim.md).
// The Verilated blocks are not part of the exported model libraries: a program built
// with Verilator registers their factories here (memplast::rtl::install(), models/rtl),
// and System asks for them when a key is true. A key that is true with no factory
// registered is a configuration error naming it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "meta/meta_core.hpp"
#include "pv/pv_algo.hpp"

namespace memplast::system {

struct RtlBlocks {
  // rtl.meta: a MetaEngine of n weights whose STEP runs on the RTL datapath.
  std::function<std::unique_ptr<meta::MetaEngine>(const meta::MetaParams&, std::size_t)> meta;
  // rtl.pv: a P&V loop controller run by the RTL FSM.
  std::function<std::unique_ptr<pv::PvLoop>(const pv::PvParams&)> pv;
};

void set_rtl_blocks(RtlBlocks blocks);
const RtlBlocks& rtl_blocks();
// The error of key `key` (rtl.meta or rtl.pv) set true in a build without Verilator.
std::string rtl_missing_message(const std::string& key);

}  // namespace memplast::system
