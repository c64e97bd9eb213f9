#include "system/rtl_hooks.hpp"

#include <fmt/format.h>

namespace memplast::system {

namespace {
RtlBlocks& registry() {
  static RtlBlocks b;
  return b;
}
}  // namespace

void set_rtl_blocks(RtlBlocks blocks) { registry() = std::move(blocks); }

const RtlBlocks& rtl_blocks() { return registry(); }

std::string rtl_missing_message(const std::string& key) {
  return fmt::format(
      "key '{}' is true, but this memplast was built without the Verilated RTL blocks "
      "(configure with Verilator installed and -DMEMPLAST_WITH_VERILATOR=ON; docs/cosim.md)",
      key);
}

}  // namespace memplast::system
