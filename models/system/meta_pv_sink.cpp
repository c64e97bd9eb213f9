#include "system/meta_pv_sink.hpp"

#include <stdexcept>
#include <string>

namespace memplast::system {

MetaPvSink::MetaPvSink(pv::PvCtrl& pv, std::array<tile::Placement, 2> placement)
    : pv_(pv),
      placement_(std::move(placement)),
      n0_(static_cast<std::uint64_t>(placement_[0].layer_rows) *
          static_cast<std::uint64_t>(placement_[0].layer_cols)),
      first1_(static_cast<unsigned>(placement_[0].blocks.size())) {}

pv::PvCommand MetaPvSink::locate(std::uint32_t index, std::uint32_t level) const {
  const int layer = index < n0_ ? 0 : 1;
  const std::uint64_t i = layer == 0 ? index : index - n0_;
  const auto& p = placement_[static_cast<std::size_t>(layer)];
  if (i >= static_cast<std::uint64_t>(p.layer_rows) * static_cast<std::uint64_t>(p.layer_cols)) {
    throw std::out_of_range("meta_unit command for weight " + std::to_string(index) +
                            ": beyond both layers");
  }
  const auto row = static_cast<int>(i / static_cast<std::uint64_t>(p.layer_cols));
  const auto col = static_cast<int>(i % static_cast<std::uint64_t>(p.layer_cols));
  const auto loc = p.locate(row, col);
  const unsigned tile = (layer == 0 ? 0U : first1_) + static_cast<unsigned>(loc.tile);
  return {tile, static_cast<std::uint32_t>(loc.row), static_cast<std::uint32_t>(loc.col), level};
}

bool MetaPvSink::try_push(const meta::ProgramCommand& cmd) {
  return pv_.offer(locate(cmd.weight, static_cast<std::uint32_t>(cmd.level)));
}

}  // namespace memplast::system
