#include "system/characterize.hpp"

#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>

#include "common/energy.hpp"
#include "sim/sc_support.hpp"
#include "tile/tile_sc.hpp"

namespace memplast::system {

namespace {

// Drives the characterization: pushes the commands (waiting when the queue is full),
// waits until the controller is idle, reads back, waits relax_s, reads back.
struct Driver : sc_core::sc_module {
  SC_HAS_PROCESS(Driver);
  Driver(const sc_core::sc_module_name& n, tile::TileModule& t, pv::PvCtrl& c, std::int64_t weights,
         double relax_s)
      : sc_module(n),
        to_pv("to_pv"),
        to_tile("to_tile"),
        tile(t),
        ctrl(c),
        n_weights(weights),
        relax(relax_s, sc_core::SC_SEC) {
    // The targets' sockets must be bound; the driver talks to them through C++ calls.
    to_pv.bind(c.socket);
    to_tile.bind(t.socket);
    ctrl.set_record_callback([this](const pv::PvDeviceRecord& r) {
      // An independent read at the instant the loop ended (the final verify's time).
      auto& dev = tile.core().array(r.side);
      const auto cell =
          tile.core().cell_index(static_cast<int>(r.cmd.row), static_cast<int>(r.cmd.col));
      samples.push_back({r, dev.read(cell, r.end.to_seconds()), 0, 0, false});
    });
    SC_THREAD(run);
  }
  void run() {
    const int cols = tile.core().cols();
    const int L = tile.core().levels();
    for (std::int64_t i = 0; i < n_weights; ++i) {
      const pv::PvCommand c{0, static_cast<std::uint32_t>(i / cols),
                            static_cast<std::uint32_t>(i % cols),
                            static_cast<std::uint32_t>(i % L)};
      while (!ctrl.offer(c)) wait(ctrl.space_event());
    }
    while (!ctrl.idle()) wait(ctrl.idle_event());
    t_prog_end = sc_core::sc_time_stamp();
    read_back(true);
    wait(relax);
    read_back(false);
    done = true;
    sc_core::sc_stop();
  }
  void read_back(bool first) {
    const double t = sc_core::sc_time_stamp().to_seconds();
    for (auto& s : samples) {
      auto& dev = tile.core().array(s.rec.side);
      const auto cell =
          tile.core().cell_index(static_cast<int>(s.rec.cmd.row), static_cast<int>(s.rec.cmd.col));
      (first ? s.g_end_uS : s.g_relax_uS) = dev.read(cell, t);
      s.stuck = dev.stuck(cell) != device::Stuck::none;
    }
  }
  tlm_utils::simple_initiator_socket<Driver> to_pv;
  tlm_utils::simple_initiator_socket<Driver> to_tile;
  tile::TileModule& tile;
  pv::PvCtrl& ctrl;
  std::int64_t n_weights;
  sc_core::sc_time relax;
  std::vector<CharacterizeSample> samples;
  sc_core::sc_time t_prog_end{sc_core::SC_ZERO_TIME};
  bool done{false};
};

}  // namespace

std::int64_t characterize_weights(const Config& cfg) {
  const auto n_total = cfg.tile.rows * cfg.tile.cols;
  const std::int64_t n_weights = cfg.characterize.cells == 0 ? n_total : cfg.characterize.cells;
  if (n_weights > n_total) {
    throw cfg::ConfigError(
        fmt::format("key 'characterize.cells': {} weights requested, the tile has {} "
                    "(tile.rows x tile.cols)",
                    n_weights, n_total));
  }
  return n_weights;
}

CharacterizeRun run_characterization(const Config& cfg) {
  const std::int64_t n_weights = characterize_weights(cfg);
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sim::install_report_handler(false);
  EnergyLedger ledger;
  tile::TileModule tm("tile0", cfg.tile, cfg.device, static_cast<std::uint64_t>(cfg.sim.seed),
                      &ledger);
  pv::PvCtrl ctrl("pv_ctrl", cfg.pv, cfg.tile, cfg.device, 1);
  ctrl.tile_socket[0].bind(tm.prog_socket);
  Driver drv("characterize", tm, ctrl, n_weights, cfg.characterize.relax_s);
  sc_core::sc_start();
  if (!drv.done)
    throw std::runtime_error("characterize: the simulation ended before the read-back");

  CharacterizeRun run;
  run.weights = n_weights;
  run.samples = std::move(drv.samples);
  run.pv_stats = ctrl.stats();
  // Programming energy: the tile's programming-port entries (prog_verify, prog_set,
  // prog_reset), reported under the names verify, set, reset.
  for (const auto& e : ledger.entries()) {
    if (e.component == tm.name() && e.operation.rfind("prog_", 0) == 0) {
      run.energy_pv_J += e.joules;
      run.energy_pv_by_phase[e.operation.substr(5)] = e.joules;
    }
  }
  run.t_programming_s = drv.t_prog_end.to_seconds();
  run.t_end_s = sc_core::sc_time_stamp().to_seconds();
  return run;
}

}  // namespace memplast::system
