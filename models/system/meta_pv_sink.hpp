// The wire between meta_unit and pv_ctrl: meta_unit's level-change commands carry the
// flat weight index; this adapter maps it to (tile, row, column) with the layers'
// placement (layer 0's weights first, row-major; tiles numbered as in System) and
// offers it to pv_ctrl's queue. A full queue refuses (meta_unit stalls and waits on
// pv_ctrl's space event). No SystemC process of its own, no time.
#pragma once

#include <array>
#include <cstdint>

#include "meta/meta_unit.hpp"
#include "pv/pv_ctrl.hpp"
#include "tile/mapping.hpp"

namespace memplast::system {

class MetaPvSink : public meta::ProgramSink {
 public:
  MetaPvSink(pv::PvCtrl& pv, std::array<tile::Placement, 2> placement);
  bool try_push(const meta::ProgramCommand& cmd) override;
  [[nodiscard]] const sc_core::sc_event& space_available() const override {
    return pv_.space_event();
  }
  // (tile, row, col) of flat weight index i.
  [[nodiscard]] pv::PvCommand locate(std::uint32_t index, std::uint32_t level) const;

 private:
  pv::PvCtrl& pv_;
  std::array<tile::Placement, 2> placement_;
  std::uint64_t n0_;
  unsigned first1_;
};

}  // namespace memplast::system
