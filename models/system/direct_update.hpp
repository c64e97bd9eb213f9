// Update path of the hardware mode with ideal devices (train.device_effects = false;
// with device effects, drivers::MetaPvUpdatePath drives meta_unit and pv_ctrl): the
// metaplastic step by the functional mode's cores (meta::MetaEngine per layer, same
// streams), each changed level forced exactly into the SystemC tile's core
// (TileCore::program_ideal: an ideal device needs no program-and-verify loop), called
// from the host thread. Time: the meta_unit's cycle count (pipeline_depth +
// ceil(n / lanes) * P per step, ceil(n / lanes) per accumulate, meta.f_clk_MHz) is
// charged to the host (hal.advance); energy to ("meta_unit", "update" / "accumulate").
// Not modelled on this path: the gradient's bus transfer, the LEVELS read.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/energy.hpp"
#include "config/config.hpp"
#include "fw/accelerator.hpp"
#include "meta/meta_core.hpp"
#include "sw/drivers/update_path.hpp"
#include "sw/hal/hal.hpp"
#include "tile/mapping.hpp"
#include "tile/tile_sc.hpp"

namespace memplast::system {

class DirectUpdatePath : public drivers::UpdatePath {
 public:
  // `tiles[l]` are layer l's tile modules in placement order (placement[l].blocks).
  DirectUpdatePath(const Config& cfg, std::array<fw::LayerShape, 2> shapes,
                   std::array<std::vector<tile::TileModule*>, 2> tiles,
                   std::array<tile::Placement, 2> placement, hal::Hal& hal, EnergyLedger& ledger);

  void init() override;
  void read_weights(int layer, float* w) override;
  void accumulate(int layer, const float* grad) override;
  std::size_t update() override;
  void new_task() override;
  [[nodiscard]] std::uint64_t memory_hidden_bits() const override;
  [[nodiscard]] std::uint64_t memory_optimizer_bits() const override;
  [[nodiscard]] std::uint64_t memory_stored_bits() const override;

  // Level writes per weight, both layers (the functional mode's layout for ideal devices).
  [[nodiscard]] std::vector<std::uint32_t> writes_per_device() const;

 private:
  struct Layer {
    fw::LayerShape shape{};
    std::unique_ptr<meta::MetaEngine> meta;
    std::vector<float> w;  // quantized weight values (in x out)
    std::vector<std::uint32_t> writes;
    std::vector<tile::TileModule*> tiles;
    tile::Placement placement;
  };
  // Force weight `index` of L to `level` in its tile.
  void program(Layer& L, std::size_t index, int level, double t_s);
  void charge_time(double seconds);
  [[nodiscard]] double now_s() const { return hal_.now_ns() * 1e-9; }

  const Config& cfg_;
  hal::Hal& hal_;
  EnergyLedger& ledger_;
  EnergyLedger::Id e_update_{0};
  EnergyLedger::Id e_acc_{0};
  std::vector<Layer> layers_;
  std::vector<meta::LevelChange> changes_;
  double pending_s_{0};  // time not yet charged to the host (below one host cycle)
};

}  // namespace memplast::system
