#include "system/top.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "bus/gen/regs.hpp"
#include "system/rtl_hooks.hpp"

namespace memplast::system {

namespace {

// The system's number of layer l's first tile (each layer's follow the previous layer's).
std::size_t first_tile(const std::vector<tile::Placement>& placement, std::size_t l) {
  std::size_t f = 0;
  for (std::size_t k = 0; k < l; ++k) f += placement[k].blocks.size();
  return f;
}

// Calls f(tile, location) for every weight of layer l, row-major, with the tile's
// system-wide number.
template <class F>
void for_each_weight(const std::vector<tile::Placement>& placement, std::size_t l, F&& f) {
  const auto& p = placement[l];
  const auto first = first_tile(placement, l);
  for (int row = 0; row < p.layer_rows; ++row) {
    for (int col = 0; col < p.layer_cols; ++col) {
      const auto loc = p.locate(row, col);
      f(first + static_cast<std::size_t>(loc.tile), loc);
    }
  }
}

}  // namespace

System::System(const Config& cfg, std::vector<fw::LayerShape> shapes, bus::Host::Firmware firmware,
               bool stop_when_done, trace::Tracer* tracer)
    : ledger_(std::make_unique<EnergyLedger>()) {
  const int R = static_cast<int>(cfg.tile.rows);
  const int C = static_cast<int>(cfg.tile.cols);
  std::size_t total = 0;
  const std::size_t n_layers = shapes.size();
  placement_.resize(n_layers);
  layer_tiles_.resize(n_layers);
  for (std::size_t l = 0; l < n_layers; ++l) {
    placement_[l] =
        tile::make_placement(static_cast<int>(shapes[l].in), static_cast<int>(shapes[l].out), R, C);
    total += placement_[l].blocks.size();
  }
  // The tiles' placement in the address map follows their number (regs::tile::kPlacements:
  // up to 256 at the map's first tile base, more above host memory).
  if (total > regs::tile::kMaxInstances) {
    throw cfg::ConfigError(
        fmt::format("keys 'train.hidden' / 'train.layers', 'tile.rows', 'tile.cols': the network "
                    "needs {} tiles, "
                    "the address map has room for {}",
                    total, regs::tile::kMaxInstances));
  }
  regs::BlockInfo tile_block = regs::tile::kBlock;
  tile_block.base = regs::tile::placement_base(static_cast<std::uint32_t>(total));
  host_ = std::make_unique<bus::Host>("host", cfg.host, std::move(firmware), stop_when_done);
  router_ = std::make_unique<bus::Router>("bus", cfg.bus);
  // The time ledger: host compute rows and phase markers, bus transfers and waits.
  host_->set_ledger(ledger_.get());
  router_->set_ledger(ledger_.get());
  router_->set_fault_injection(cfg.faults.bus_error_rate, cfg.faults.bus_error_at_s,
                               static_cast<std::uint64_t>(cfg.sim.seed));
  sysctl_ = std::make_unique<bus::Sysctl>(
      "sysctl", static_cast<std::uint32_t>(total), static_cast<std::uint32_t>(R),
      static_cast<std::uint32_t>(C), static_cast<std::uint32_t>(n_layers));
  // Interrupt lines: one signal per source, bound as the blocks are made.
  auto irq_line = [this](sim::IrqOut& out, sim::IrqIn& in) {
    irq_lines_.push_back(std::make_unique<sim::IrqLine>(
        (std::string("irq_") + out.get_parent_object()->basename()).c_str()));
    wiring_.irq(out, in, *irq_lines_.back());
  };
  irq_line(sysctl_->irq_out, host_->irq_in[kIrqLine]);
  wiring_.socket(host_->socket, router_->target_socket);
  std::size_t target = 0;
  wiring_.socket(router_->initiator_socket, sysctl_->socket);
  router_->map(target++, regs::sysctl::kBlock, 0);
  const auto seed = static_cast<std::uint64_t>(cfg.sim.seed);
  // train.device_effects = false: ideal devices (device.ideal), programmed by the same
  // meta_unit -> pv_ctrl path; program-and-verify then takes one pulse per device.
  device::DeviceParams dev = cfg.device;
  if (!cfg.train.device_effects) dev.ideal = true;
  for (std::size_t l = 0; l < n_layers; ++l) {
    for (std::size_t k = 0; k < placement_[l].blocks.size(); ++k) {
      const auto index = static_cast<unsigned>(tiles_.size());
      auto t = std::make_unique<tile::TileModule>(fmt::format("layer{}_t{}", l, k).c_str(),
                                                  cfg.tile, dev, seed, ledger_.get());
      irq_line(t->irq_out, sysctl_->tile_irq[index]);
      if (cfg.faults.adc_sat_tile < 0 || cfg.faults.adc_sat_tile == static_cast<int>(index))
        t->set_adc_fault_injection(cfg.faults.adc_sat_rate, cfg.faults.adc_sat_at_s, seed);
      wiring_.socket(router_->initiator_socket, t->socket);
      router_->map(target++, tile_block, index);
      layer_tiles_[l].push_back(t.get());
      tiles_.push_back(std::move(t));
    }
  }
  if (cfg.faults.adc_sat_tile >= static_cast<std::int64_t>(tiles_.size())) {
    throw cfg::ConfigError(fmt::format("key 'faults.adc_sat_tile' = {}: the network has {} tiles",
                                       cfg.faults.adc_sat_tile, tiles_.size()));
  }
  pv_ = std::make_unique<pv::PvCtrl>("pv_ctrl", cfg.pv, cfg.tile, dev, tiles_.size(), cfg.faults,
                                     seed);
  if (cfg.rtl.pv) {  // the Verilated pv_fsm runs pv_ctrl's P&V loops (docs/cosim.md)
    if (!rtl_blocks().pv) throw cfg::ConfigError(rtl_missing_message("rtl.pv"));
    pv_->set_loop(rtl_blocks().pv(cfg.pv));
  }
  for (std::size_t i = 0; i < tiles_.size(); ++i)
    wiring_.socket(pv_->tile_socket[i], tiles_[i]->prog_socket);
  irq_line(pv_->irq_out, sysctl_->pv_irq);
  wiring_.socket(router_->initiator_socket, pv_->socket);
  router_->map(target++, regs::pv_ctrl::kBlock, 0);
  std::size_t n_weights = 0;
  for (const auto& s : shapes) n_weights += s.in * s.out;
  std::unique_ptr<meta::MetaEngine> meta_engine;  // null: the C++ engine (make_engine)
  if (cfg.rtl.meta) {  // the Verilated meta_update runs meta_unit's STEP (docs/cosim.md)
    if (!rtl_blocks().meta) throw cfg::ConfigError(rtl_missing_message("rtl.meta"));
    meta_engine = rtl_blocks().meta(cfg.meta, n_weights);
  }
  meta_ = std::make_unique<meta::MetaUnit>("meta_unit", cfg.meta, n_weights, seed,
                                           cfg.train.init_half_range, ledger_.get(),
                                           std::move(meta_engine));
  // meta_unit's cell address table: weight index -> (tile, row, col), layer 0's weights
  // first, row-major, tiles numbered as above.
  std::vector<std::uint64_t> cells;
  cells.reserve(n_weights);
  for (std::size_t l = 0; l < n_layers; ++l) {
    for_each_weight(placement_, l, [&](std::size_t t, const tile::WeightLocation& loc) {
      cells.push_back((static_cast<std::uint64_t>(t) << 32) |
                      (static_cast<std::uint64_t>(loc.row) << 16) |
                      static_cast<std::uint64_t>(loc.col));
    });
  }
  meta_->set_cell_map(std::move(cells));
  // The command path (pv.cmd_path): a point-to-point link, or the system bus.
  space_line_ = std::make_unique<sim::IrqLine>("pv_space");
  wiring_.irq(pv_->space_out, meta_->pv_space_in, *space_line_);
  if (cfg.pv.cmd_path == "link") {
    link_ = std::make_unique<pv::PvLink>("meta_pv_link", cfg.pv, ledger_.get());
    wiring_.socket(meta_->pv_socket, link_->target_socket);
    wiring_.socket(link_->initiator_socket, pv_->queue_socket);
    meta_->set_pv_target(0, 0.0);
  } else {
    wiring_.socket(meta_->pv_socket, router_->target_socket);
    meta_->set_pv_target(regs::pv_ctrl::base(0) + regs::pv_ctrl::CMDQ_OFFSET,
                         cfg.pv.bus_cmd_energy_pJ * 1e-12);
  }
  irq_line(meta_->irq_out, sysctl_->meta_irq);
  wiring_.socket(router_->initiator_socket, meta_->socket);
  router_->map(target++, regs::meta_unit::kBlock, 0);
  // Host memory (the core's own port, the DMA's memory port, the bus) and the DMA
  // engine (registers on the bus, a bus initiator for everything but host memory).
  if (cfg.dma.burst_bytes > cfg.bus.max_burst_bytes) {
    throw cfg::ConfigError(
        fmt::format("key 'dma.burst_bytes' = {} exceeds bus.max_burst_bytes = {}",
                    cfg.dma.burst_bytes, cfg.bus.max_burst_bytes));
  }
  host_mem_ = std::make_unique<bus::HostMemory>("host_mem", cfg.host_mem, ledger_.get());
  wiring_.socket(host_->mem_socket, host_mem_->cpu_socket);
  dma_ = std::make_unique<bus::Dma>("dma", cfg.dma, ledger_.get());
  dma_->set_fault_injection(cfg.faults.dma_error_rate, cfg.faults.dma_error_at_s,
                            static_cast<std::uint64_t>(cfg.sim.seed));
  irq_line(dma_->irq_out, sysctl_->dma_irq);
  wiring_.socket(router_->initiator_socket, dma_->socket);
  router_->map(target++, regs::dma::kBlock, 0);
  wiring_.socket(dma_->bus_socket, router_->target_socket);
  wiring_.socket(dma_->mem_socket, host_mem_->dma_socket);
  wiring_.socket(router_->initiator_socket, host_mem_->socket);
  router_->map(target++, regs::host_mem::kBlock, 0);
  if (tracer != nullptr) {
    host_->attach_tracer(tracer, "host", 0);
    std::vector<std::string> initiators{host_->basename()};
    if (!link_) initiators.emplace_back(meta_->basename());
    initiators.emplace_back(dma_->basename());
    router_->attach_tracer(tracer, "bus", initiators, 1);
    meta_->attach_tracer(tracer, "meta_unit", 2);
    pv_->attach_tracer(tracer, "pv_ctrl", 3);
    for (auto& t : tiles_) t->attach_tracer(tracer, "tiles", 4);
  }
}

std::vector<std::uint32_t> System::writes_per_weight_device() const {
  std::vector<std::uint32_t> v;
  const bool ref_col =
      !tiles_.empty() && tiles_[0]->core().mapping() == tile::Mapping::reference_column;
  for (std::size_t l = 0; l < placement_.size(); ++l) {
    for_each_weight(placement_, l, [&](std::size_t t, const tile::WeightLocation& loc) {
      const auto& w = pv_->writes_per_device(t);
      // pv_ctrl counts per weight (row-major in the tile), whichever device serves it.
      const std::size_t cell =
          static_cast<std::size_t>(loc.row) * static_cast<std::size_t>(tiles_[t]->core().cols()) +
          static_cast<std::size_t>(loc.col);
      if (ref_col) {
        v.push_back(w[cell]);
      } else {
        v.push_back(w[2 * cell]);
        v.push_back(w[2 * cell + 1]);
      }
    });
    if (!ref_col) continue;
    for (const auto& b : placement_[l].blocks) {  // the reference cells of the rows in use
      const auto t = first_tile(placement_, l) + static_cast<std::size_t>(b.tile);
      const auto& w = pv_->writes_per_device(t);
      const auto n = static_cast<std::size_t>(tiles_[t]->core().rows()) *
                     static_cast<std::size_t>(tiles_[t]->core().cols());
      for (int r = 0; r < b.n_rows; ++r) v.push_back(w[n + static_cast<std::size_t>(r)]);
    }
  }
  return v;
}

void System::open_vcd(const std::string& file) {
  if (vcd_ != nullptr) throw std::logic_error("System::open_vcd: already open");
  vcd_ = sc_core::sc_create_vcd_trace_file(file.c_str());
  vcd_->set_time_unit(1, sc_core::SC_PS);
  for (const auto& line : irq_lines_) sc_core::sc_trace(vcd_, *line, line->name());
  for (const auto& t : tiles_) sc_core::sc_trace(vcd_, t->busy_signal(), t->busy_signal().name());
  sc_core::sc_trace(vcd_, pv_->busy_signal(), pv_->busy_signal().name());
  sc_core::sc_trace(vcd_, pv_->queue_depth_signal(), pv_->queue_depth_signal().name());
  sc_core::sc_trace(vcd_, meta_->busy_signal(), meta_->busy_signal().name());
  sc_core::sc_trace(vcd_, meta_->stalled_signal(), meta_->stalled_signal().name());
}

System::~System() {
  if (vcd_ != nullptr) sc_core::sc_close_vcd_trace_file(vcd_);
}

std::vector<std::uint32_t> System::pulses_per_device() const {
  std::vector<std::uint32_t> v;
  for (const auto& t : tiles_) {
    auto& core = t->core();
    const bool diff = core.mapping() == tile::Mapping::differential;
    for (auto side : {tile::Side::pos, diff ? tile::Side::neg : tile::Side::ref}) {
      const auto& dev = core.array(side);
      for (std::size_t i = 0; i < dev.size(); ++i) v.push_back(dev.pulses(i));
    }
  }
  return v;
}

void System::state_io(StateIO& io) {
  io.section("system");
  host_->state_io(io);
  router_->state_io(io);
  sysctl_->state_io(io);
  std::uint64_t n = tiles_.size();
  io.value("tiles", n);
  if (n != tiles_.size()) throw std::runtime_error(io.origin() + ": tile count differs");
  for (auto& t : tiles_) t->state_io(io);
  pv_->state_io(io);
  meta_->state_io(io);
  dma_->state_io(io);
  host_mem_->state_io(io);
  ledger_->state_io(io);
}

}  // namespace memplast::system
