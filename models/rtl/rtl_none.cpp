// A build without Verilator: no RTL block is registered, so rtl.meta / rtl.pv = true is
// a configuration error naming the key (system::rtl_missing_message).
#include "rtl/rtl_blocks.hpp"

namespace memplast::rtl {

void install() {}

}  // namespace memplast::rtl
