// The SystemC top of the accelerator, built from the immutable Config:
//   host (runs the firmware through the HAL) -> bus (Router) -> sysctl, tiles.
// Tiles: one tile::TileModule per tile of each layer's TileGrid placement, layer 0
// first, row-block-major (the order HalAccelerator assumes); tile instance i sits at
// regs::tile::placement_base(N) + i * regs::tile::kStride for N tiles (N <= 256: the
// spec's regs::tile::base(i)), which sysctl reports (TILE_BASE, TILE_STRIDE). Modules are created
// at the top of the SystemC hierarchy (System is a plain C++ owner, not an sc_module), so tile k of
// layer l is named "layer<l>_t<k>": the same name TileGrid gives the functional tile, hence the
// same device and read-noise random streams as FunctionalAccelerator.
// pv_ctrl (regs::pv_ctrl) programs the tiles through their programming sockets
// (tile_socket[i] -> prog_socket); meta_unit (regs::meta_unit, one flat weight space:
// layer 0 then layer 1, mapped to cells by its address table) sends its level changes
// to pv_ctrl's queue over TLM: pv.cmd_path = link: meta_unit.pv_socket -> meta_pv_link ->
// pv_ctrl.queue_socket; = bus: meta_unit.pv_socket -> bus (second initiator) -> pv_ctrl's
// CMDQ window; pv_ctrl.space_out -> meta_unit.pv_space_in is the space-available line. meta_unit's
// hidden weights are the firmware's to load (its HIDDEN window, fw::Trainer::initial_hidden:
// the streams FunctionalAccelerator uses), as is its level table (LEVEL_VALUES); the top
// makes no call into a block's engine. Interrupts are sc_signal<bool> lines: every tile's,
// pv_ctrl's and meta_unit's irq_out
// -> sysctl (tile_irq[i], pv_irq, meta_irq); sysctl's irq_out -> host irq_in[kIrqLine].
// Tracing: with a tracer, every block gets its track (groups host, bus, meta_unit,
// pv_ctrl, tiles, in that order in the UI); see traces/README.md.
// The DMA engine (regs::dma) is a bus target and initiator with its own port to host
// memory (regs::host_mem), which the host core reaches through its mem_socket (DMI).
// Bus targets in order: sysctl, tiles, pv_ctrl, meta_unit, dma, host_mem. Every binding (and every
// remaining direct call between blocks) is recorded in wiring() as it is made.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "bus/dma.hpp"
#include "bus/host.hpp"
#include "bus/host_mem.hpp"
#include "bus/router.hpp"
#include "bus/sysctl.hpp"
#include "common/energy.hpp"
#include "config/config.hpp"
#include "fw/accelerator.hpp"
#include "meta/meta_unit.hpp"
#include "pv/pv_ctrl.hpp"
#include "pv/pv_link.hpp"
#include "system/wiring.hpp"
#include "tile/mapping.hpp"
#include "tile/tile_sc.hpp"
#include "trace/tracer.hpp"

namespace memplast::system {

inline constexpr unsigned kIrqLine = 0;

class System {
 public:
  // stop_when_done: the host calls sc_stop() when the firmware returns.
  // tracer: the run's trace (trace.enable), or null; attached to every block (one track
  // per block instance: host, bus, meta_unit, pv_ctrl, each tile). It must outlive the
  // simulation.
  System(const Config& cfg, std::vector<fw::LayerShape> shapes, bus::Host::Firmware firmware,
         bool stop_when_done = true, trace::Tracer* tracer = nullptr);
  ~System();
  // waves.vcd (trace.vcd): SystemC's own VCD writer (sc_trace) on the signals the blocks
  // drive: every interrupt line, each tile's busy flag, pv_ctrl's busy flag and queue
  // depth, meta_unit's busy and stalled flags. `file` without ".vcd" (SystemC adds it);
  // call before sc_start. The file is closed when the System is destroyed.
  void open_vcd(const std::string& file);
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  bus::Host& host() { return *host_; }
  bus::Router& router() { return *router_; }
  bus::Sysctl& sysctl() { return *sysctl_; }
  EnergyLedger& ledger() { return *ledger_; }
  pv::PvCtrl& pv_ctrl() { return *pv_; }
  meta::MetaUnit& meta_unit() { return *meta_; }
  bus::Dma& dma() { return *dma_; }
  bus::HostMemory& host_mem() { return *host_mem_; }
  // The block-to-block connections, in the order they were made.
  [[nodiscard]] const Wiring& wiring() const { return wiring_; }
  // pv_ctrl's P&V loops per device, as FunctionalAccelerator reports them, one entry per
  // device that exists: per layer, per weight (row-major), the pos then the neg device
  // (differential) or the weight's device (reference column), then with the reference
  // column the reference cells of the rows in use, per tile in placement order.
  [[nodiscard]] std::vector<std::uint32_t> writes_per_weight_device() const;
  [[nodiscard]] const tile::Placement& placement(int layer) const {
    return placement_[static_cast<std::size_t>(layer)];
  }
  // Layer l's tiles in placement order.
  [[nodiscard]] const std::vector<tile::TileModule*>& layer_tiles(int layer) const {
    return layer_tiles_[static_cast<std::size_t>(layer)];
  }
  [[nodiscard]] std::size_t n_tiles() const { return tiles_.size(); }
  tile::TileModule& tile(std::size_t i) { return *tiles_.at(i); }
  // SET/RESET pulses per device of every tile (pos array, then neg or the reference
  // column), tile order.
  [[nodiscard]] std::vector<std::uint32_t> pulses_per_device() const;
  // Checkpoint of every block, called from the firmware's thread at a batch boundary
  // (memplast train --resume): the host's time first (reading waits until it), then the
  // bus, sysctl, the tiles, pv_ctrl, meta_unit and the energy ledger.
  void state_io(StateIO& io);

 private:
  std::unique_ptr<EnergyLedger> ledger_;
  Wiring wiring_;
  std::vector<std::unique_ptr<sim::IrqLine>> irq_lines_;
  std::vector<tile::Placement> placement_;
  std::unique_ptr<bus::Host> host_;
  std::unique_ptr<bus::Router> router_;
  std::unique_ptr<bus::Sysctl> sysctl_;
  std::vector<std::unique_ptr<tile::TileModule>> tiles_;
  std::vector<std::vector<tile::TileModule*>> layer_tiles_;
  std::unique_ptr<pv::PvCtrl> pv_;
  std::unique_ptr<pv::PvLink> link_;  // pv.cmd_path = link
  std::unique_ptr<sim::IrqLine> space_line_;
  std::unique_ptr<meta::MetaUnit> meta_;
  std::unique_ptr<bus::HostMemory> host_mem_;
  std::unique_ptr<bus::Dma> dma_;
  sc_core::sc_trace_file* vcd_{nullptr};
};

}  // namespace memplast::system
