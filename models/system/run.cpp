#include "system/run.hpp"

#include <exception>
#include <map>
#include <memory>
#include <stdexcept>

#include <systemc>

#include "common/power_series.hpp"
#include "meta/meta_core.hpp"
#include "sim/sc_support.hpp"
#include "sw/drivers/dma_driver.hpp"
#include "sw/drivers/hal_accelerator.hpp"
#include "sw/drivers/meta_pv_update.hpp"
#include "sw/hal/retry_hal.hpp"
#include "system/top.hpp"
#include "tile/tile_histograms.hpp"

namespace memplast::system {

namespace {

// The firmware's view of the update path: network and memory report (the tile geometry
// it reads from sysctl, the level table and number formats from meta_unit's FORMAT
// register and LEVEL_VALUES window).
drivers::MetaPvLayout make_layout(const Config& cfg, const std::vector<fw::LayerShape>& shapes) {
  drivers::MetaPvLayout layout;
  layout.shapes = shapes;
  layout.tile_rows = 0;  // the hardware's: sysctl.TILE_ROWS / TILE_COLS
  layout.tile_cols = 0;
  layout.retry_limit = static_cast<unsigned>(cfg.faults.retry_limit);
  layout.remap = cfg.faults.remap;
  layout.skip = cfg.faults.skip;
  layout.spare_cols = static_cast<unsigned>(cfg.tile.spare_cols);
  layout.reference_column = cfg.tile.mapping == "reference_column";
  for (const auto& s : shapes) {
    const auto mb = meta::memory_bits(cfg.meta, s.in * s.out);
    layout.hidden_bits += mb.hidden;
    layout.optimizer_bits += mb.optimizer;
    layout.stored_bits += mb.stored;
  }
  return layout;
}

// summary.json "faults": the faults by kind (stuck devices at the end, of which worn
// out; P&V failures and lost commands, of which injected) and what the firmware did.
std::map<std::string, std::uint64_t> fault_summary(System& sys, const drivers::RecoveryStats& r,
                                                   std::uint64_t bus_retries,
                                                   const std::map<std::string, std::uint64_t>& fw) {
  std::uint64_t lrs = 0;
  std::uint64_t hrs = 0;
  std::uint64_t worn = 0;
  std::uint64_t remapped_in_use = 0;
  for (std::size_t t = 0; t < sys.n_tiles(); ++t) {
    auto& core = sys.tile(t).core();
    std::vector<tile::Side> sides{tile::Side::pos};
    sides.push_back(core.mapping() == tile::Mapping::differential ? tile::Side::neg
                                                                  : tile::Side::ref);
    for (auto side : sides) {
      const auto& a = core.array(side);
      for (std::size_t i = 0; i < a.size(); ++i) {
        const auto k = a.stuck(i);
        if (k == device::Stuck::none) continue;
        (k == device::Stuck::at_lrs ? lrs : hrs) += 1;
        if (a.pulses(i) > a.budget(i)) ++worn;
      }
    }
    for (int c = 0; c < core.cols(); ++c) remapped_in_use += core.remapped_to(c) >= 0 ? 1 : 0;
  }
  const auto& st = sys.pv_ctrl().stats();
  std::map<std::string, std::uint64_t> out{{"stuck_at_lrs_devices", lrs},
                                           {"stuck_at_hrs_devices", hrs},
                                           {"worn_out_devices", worn},
                                           {"pv_failed_devices", st.device_failures},
                                           {"pv_failed_commands", st.failed},
                                           {"pv_failures_injected", st.injected_pv_failures},
                                           {"queue_dropped_commands", st.dropped},
                                           {"queue_drops_injected", st.injected_drops},
                                           {"fail_log_lost", st.fail_log_lost},
                                           {"commands_skipped", st.skipped},
                                           {"fw_failure_log_pv_failed", r.pv_failed},
                                           {"fw_failure_log_dropped", r.dropped},
                                           {"fw_retries", r.retries},
                                           {"fw_failed_weights", r.failed_weights},
                                           {"fw_remapped_columns", r.remapped_columns},
                                           {"fw_remap_reprogrammed_weights", r.reprogrammed},
                                           {"fw_skipped_weights", r.skipped_weights},
                                           {"fw_unrepaired_weights", r.unrepaired},
                                           {"spare_columns_in_use", remapped_in_use}};
  // Bus errors: only when injected or retried (faults.bus_error_*), so a run without
  // them keeps its summary.
  if (sys.router().injected_errors() > 0 || bus_retries > 0) {
    out["bus_errors_injected"] = sys.router().injected_errors();
    out["fw_bus_retries"] = bus_retries;
  }
  // ADC saturation: the tiles' saturated conversions (natural and injected), always.
  std::uint64_t sat = 0;
  std::uint64_t sat_injected = 0;
  for (std::size_t t = 0; t < sys.n_tiles(); ++t) {
    sat += sys.tile(t).adc_saturated();
    sat_injected += sys.tile(t).adc_sat_injected();
  }
  out["adc_saturated_conversions"] = sat;
  if (sat_injected > 0) out["adc_saturations_injected"] = sat_injected;
  for (const auto& [k, v] : fw) out[k] = v;
  return out;
}

// The drivers' fault counters in a checkpoint: ADC saturation always, the DMA
// recovery's only when DMA faults are configured (`dma` null otherwise).
void driver_faults_io(StateIO& io, drivers::HalAccelerator& acc, drivers::DmaDriver* dma) {
  auto& as = acc.adc_sat_ref();
  io.value("adc_sat_flagged", as.flagged);
  io.value("adc_sat_codes", as.codes);
  io.value("adc_sat_reruns", as.reruns);
  io.value("adc_sat_rescaled", as.rescaled);
  io.value("adc_sat_recovered", as.recovered);
  io.value("adc_sat_unresolved", as.unresolved);
  if (dma != nullptr) {
    auto& r = dma->recovery_ref();
    io.value("dma_errors", r.errors);
    io.value("dma_restarts", r.restarts);
    io.value("dma_pio_transfers", r.pio_transfers);
    io.value("dma_pio_bytes", r.pio_bytes);
  }
}

// summary.json "faults": what the drivers counted (ADC saturation always; DMA errors
// when configured or seen).
std::map<std::string, std::uint64_t> driver_fault_counts(System& sys,
                                                         const drivers::HalAccelerator& acc,
                                                         const drivers::DmaDriver* dma,
                                                         bool dma_faults) {
  std::map<std::string, std::uint64_t> out;
  const auto& as = acc.adc_sat();
  out["fw_adc_sat_flagged_mvms"] = as.flagged;
  out["fw_adc_sat_codes"] = as.codes;
  out["fw_adc_sat_reruns"] = as.reruns;
  out["fw_adc_sat_rescaled"] = as.rescaled;
  out["fw_adc_sat_recovered"] = as.recovered;
  out["fw_adc_sat_unresolved"] = as.unresolved;
  if (dma != nullptr && (dma_faults || dma->recovery().errors > 0)) {
    const auto& r = dma->recovery();
    out["dma_errors_injected"] = sys.dma().injected_errors();
    out["fw_dma_errors"] = r.errors;
    out["fw_dma_restarts"] = r.restarts;
    out["fw_dma_pio_transfers"] = r.pio_transfers;
    out["fw_dma_pio_bytes"] = r.pio_bytes;
  }
  return out;
}

// sc_start until the firmware returns; rethrows its error, throws if it never finished.
void simulate(System& sys) {
  sc_core::sc_start();
  if (sys.host().error()) std::rethrow_exception(sys.host().error());
  if (!sys.host().finished()) {
    throw std::runtime_error(
        "hardware run: the simulation ended before the firmware finished (blocked on "
        "interrupt mask " +
        std::to_string(sys.host().waiting_on()) + ")");
  }
}

double host_energy(const Config& cfg, std::uint64_t macs, std::uint64_t ops) {
  return (static_cast<double>(macs) * cfg.host.e_mac_pJ +
          static_cast<double>(ops) * cfg.host.e_op_pJ) *
         1e-12;
}

void charge_host(System& sys, const Config& cfg, std::uint64_t macs, std::uint64_t ops) {
  auto& ledger = sys.ledger();
  // The total in one sum, as before the rows existed; the rows ("host", phase, "mac" |
  // "op") were charged by the host as it computed (bus::Host::set_ledger).
  const auto e_host = ledger.entry("host", "compute");
  ledger.charge_total(e_host, host_energy(cfg, macs, ops), 1);
}

// Components by block: the tile modules ("layer0_t3", ...) are summed as "tile".
std::map<std::string, double> energy_by_block(const EnergyLedger& ledger) {
  std::map<std::string, double> by;
  for (const auto& e : ledger.entries()) {
    const bool is_tile =
        e.component.rfind("layer", 0) == 0 && e.component.find("_t") != std::string::npos;
    by[is_tile ? "tile" : e.component] += e.joules;
  }
  return by;
}

}  // namespace

HardwareRunResult run_hardware_training(const Config& cfg, std::vector<data::TaskData> tasks,
                                        std::vector<std::string> names,
                                        const fw::Trainer::ProgressFn& progress,
                                        const fw::Trainer::BoundaryFn& boundary,
                                        const std::filesystem::path& out_dir,
                                        const Checkpointing& checkpointing) {
  HardwareRunResult res;
  // The trace (trace.enable): made before the System, so it outlives the modules that
  // hold it; finished after the simulation (an exception leaves it "aborted").
  std::unique_ptr<trace::Tracer> tracer;
  if (cfg.trace.enable && !out_dir.empty())
    tracer = std::make_unique<trace::Tracer>(cfg.trace, out_dir / "trace.json");
  const auto shapes = fw::Trainer::shapes(cfg.train);
  // The weights are updated by meta_unit and programmed by pv_ctrl, driven by the
  // firmware (MetaPvUpdatePath), with or without device effects: with ideal devices
  // (train.device_effects = false, device.ideal in the top) program-and-verify lands
  // each device in one pulse.
  auto layout = make_layout(cfg, shapes);
  std::uint64_t macs = 0;
  std::uint64_t ops = 0;
  System* sys_ptr = nullptr;  // set once the System is elaborated, before the firmware runs
  drivers::RecoveryStats recovery;
  PowerSeries power;
  std::uint64_t bus_retries = 0;
  std::map<std::string, std::uint64_t> fw_faults;  // the drivers' fault counters (ADC, DMA)
  auto firmware = [&](hal::Hal& host_hal) {
    // The firmware's accesses retry a bus error response (faults.retry_limit).
    hal::RetryHal hal(host_hal, static_cast<std::uint64_t>(cfg.faults.retry_limit));
    power.sample(hal.now_ns() * 1e-9, sys_ptr->ledger());
    // Phase "init": the drivers' set-up before the trainer's first task (the initial
    // hidden weights, computed by the firmware, written into meta_unit's HIDDEN window;
    // the level table read; every device programmed from LEVELS); traced only without
    // task/epoch/batch ranges.
    trace::Context setup;
    setup.setup = true;
    sys_ptr->host().mark_phase(true, "init", setup);
    layout.hidden =
        fw::Trainer::initial_hidden(cfg.train, static_cast<std::uint64_t>(cfg.sim.seed));
    drivers::MetaPvUpdatePath metapv(hal, layout, kIrqLine);
    layout.hidden = {};
    // host.data_movement = dma: tile data and gradients move by DMA via host memory.
    std::unique_ptr<drivers::DmaDriver> dma;
    if (cfg.host.data_movement == "dma") {
      dma = std::make_unique<drivers::DmaDriver>(hal, kIrqLine);
      // A chain stopped on a bus error: restarted, then moved by programmed I/O.
      dma->set_recovery(static_cast<std::uint64_t>(cfg.faults.retry_limit));
      metapv.set_dma(dma.get());
    }
    drivers::HalAccelerator acc(hal, shapes, metapv, kIrqLine, dma.get());
    // tile.adc_range / tile.adc_calibration: the firmware's ADC set-up (docs/tile.md).
    acc.set_adc_range_mode(fw::parse_adc_range(cfg.tile.adc_range), cfg.tile.adc_range_percentile);
    if (cfg.tile.adc_calibration == "startup") acc.calibrate_adcs();
    fw::Trainer trainer(cfg.train, acc, static_cast<std::uint64_t>(cfg.sim.seed), std::move(tasks),
                        names);
    const bool dma_faults = cfg.faults.dma_error_rate > 0 || !cfg.faults.dma_error_at_s.empty();
    acc.set_adc_recovery(cfg.faults.adc_sat_recover,
                         static_cast<std::uint64_t>(cfg.faults.retry_limit));
    // The whole run's state: trainer, blocks, drivers (the same order both ways).
    const auto run_state_io = [&](StateIO& io, const fw::TrainPosition& p) {
      trainer.state_io(io, p);
      sys_ptr->state_io(io);
      auto words = acc.checkpoint_words();
      std::uint32_t n_weights = metapv.cached_n_weights();
      io.vec("drivers", words);
      io.value("meta_n_weights", n_weights);
      auto recovery_words = metapv.recovery_words();
      io.vec("recovery", recovery_words, false);
      io.value("bus_retries", hal.retries_ref());
      driver_faults_io(io, acc, dma_faults ? dma.get() : nullptr);
      if (io.reading()) {
        metapv.restore_recovery_words(recovery_words);
        acc.restore_checkpoint_words(words);
        metapv.set_cached_n_weights(n_weights);
      }
    };
    if (checkpointing.restore != nullptr) {
      StateIO io = StateIO::reader(*checkpointing.restore, checkpointing.origin);
      run_state_io(io, {});
      io.expect_end();
    }
    // power.csv: the ledger at every batch boundary (host compute, charged to the ledger
    // totals only at the end, from the firmware's counts so far); the checkpoint writer
    // when checkpointing.
    trainer.set_boundary([&](const fw::TrainPosition& p) {
      power.sample(hal.now_ns() * 1e-9, sys_ptr->ledger(),
                   host_energy(cfg, acc.host_macs(), acc.host_ops()));
      if (checkpointing.boundary)
        return checkpointing.boundary(p, [&](StateIO& io) { run_state_io(io, p); });
      return boundary && boundary(p);
    });
    // A resumed run's ledger (phases included) is the checkpoint's: its "init" ended
    // long ago, and the begin above was overwritten by the restore (the trace's init
    // event still ends here).
    sys_ptr->host().mark_phase(false, "init", setup, checkpointing.restore == nullptr);
    // The phase markers go to the ledger (phase times, the phase of each charge) and,
    // when tracing, to the host's track.
    trainer.set_phase_hook([&](const fw::PhaseMark& m) {
      sys_ptr->host().mark_phase(m.begin, m.name, trace::Context{m.task, m.epoch, m.batch},
                                 !m.resumed);
    });
    res.train = trainer.run(progress);
    // Phase "readback": the trained state (the hidden weights, flat: layer 0, layer 1,
    // ...) read back through meta_unit's HIDDEN window, for memplast infer's state.
    sys_ptr->host().mark_phase(true, "readback", setup);
    for (int l = 0; l < static_cast<int>(shapes.size()); ++l) {
      const auto& sh = shapes[static_cast<std::size_t>(l)];
      std::vector<float> h(sh.in * sh.out);
      metapv.read_hidden(l, h.data());
      res.hidden.push_back(std::move(h));
    }
    sys_ptr->host().mark_phase(false, "readback", setup);
    res.batch_norms = trainer.batch_norms();
    res.stats = acc.stats();
    res.memory_hidden_bits = acc.memory_hidden_bits();
    res.memory_optimizer_bits = acc.memory_optimizer_bits();
    res.memory_stored_bits = acc.memory_stored_bits();
    macs = acc.host_macs();
    ops = acc.host_ops();
    recovery = metapv.recovery();
    bus_retries = hal.retries();
    fw_faults = driver_fault_counts(*sys_ptr, acc, dma.get(), dma_faults);
  };
  sim::install_report_handler(false);
  System sys(cfg, shapes, firmware, true, tracer.get());
  sys_ptr = &sys;
  if (cfg.trace.vcd && !out_dir.empty()) sys.open_vcd((out_dir / "waves").string());
  simulate(sys);
  res.simulated_time_s = sc_core::sc_time_stamp().to_seconds();
  if (tracer) {
    tracer->advance(sim::to_ps(sc_core::sc_time_stamp()));
    tracer->finish(res.train.interrupted ? "interrupted" : "complete");
  }
  charge_host(sys, cfg, macs, ops);
  auto& s = res.stats;
  s.writes_per_device = sys.writes_per_weight_device();
  s.pulses_per_device = sys.pulses_per_device();
  for (int l = 0; l < static_cast<int>(shapes.size()); ++l) {
    for (const auto& t : sys.layer_tiles(l)) {
      s.devices_allocated += t->core().device_count();
      s.device_state_bytes += t->core().device_state_bytes();
      s.tile_cache_bytes += t->core().cache_bytes();
    }
  }
  s.pv_failures = sys.pv_ctrl().stats().device_failures;
  s.faults = fault_summary(sys, recovery, bus_retries, fw_faults);
  s.endurance_budget_median = cfg.device.endurance_median;
  s.energy_total = sys.ledger().total();
  s.energy_by_component = energy_by_block(sys.ledger());
  s.energy_csv = sys.ledger().csv();
  sys.ledger().close(res.simulated_time_s);
  res.ledger = sys.ledger();
  power.sample(res.simulated_time_s, sys.ledger());
  s.power_csv = power.csv();
  {
    // histograms.json: conductance per level and ADC input per layer (tile_histograms.hpp);
    // the levels are meta_unit's (flat: layer 0, layer 1, ..., in x out each).
    std::vector<tile::LayerTiles> views;
    const std::int8_t* levels = sys.meta_unit().engine().levels();
    std::size_t base = 0;
    for (int l = 0; l < static_cast<int>(shapes.size()); ++l) {
      const auto& tiles = sys.layer_tiles(l);
      views.push_back({&sys.placement(l),
                       [&tiles](int t) -> const tile::TileCore& {
                         return tiles[static_cast<std::size_t>(t)]->core();
                       },
                       levels + base});
      base += shapes[static_cast<std::size_t>(l)].in * shapes[static_cast<std::size_t>(l)].out;
    }
    s.histograms_json = tile::histograms_json(views, cfg.tile, res.simulated_time_s);
    if (cfg.tile.adc_range != "fixed") s.adc_profile_json = tile::adc_profile_json(views, cfg.tile);
  }
  return res;
}

HardwareInferResult run_hardware_inference(const Config& cfg,
                                           const std::vector<std::vector<float>>& hidden,
                                           std::vector<std::vector<fw::BatchNorm>> batch_norms,
                                           std::vector<data::TaskData> tasks,
                                           std::vector<std::string> names,
                                           const std::vector<std::size_t>& evaluate) {
  HardwareInferResult res;
  const auto shapes = fw::Trainer::shapes(cfg.train);
  auto layout = make_layout(cfg, shapes);
  if (hidden.size() != shapes.size()) {
    throw std::invalid_argument("hardware inference: " + std::to_string(hidden.size()) +
                                " layers of hidden weights, the network has " +
                                std::to_string(shapes.size()));
  }
  layout.hidden.resize(shapes.size());
  for (std::size_t l = 0; l < shapes.size(); ++l)
    layout.hidden[l].assign(hidden[l].begin(), hidden[l].end());
  std::uint64_t macs = 0;
  std::uint64_t ops = 0;
  auto firmware = [&](hal::Hal& hal) {
    // HalAccelerator's constructor runs the update path's init(): the hidden weights
    // go into meta_unit's HIDDEN window, the levels come back from LEVELS and pv_ctrl
    // programs every device.
    drivers::MetaPvUpdatePath metapv(hal, layout, kIrqLine);
    // host.data_movement = dma: tile data and gradients move by DMA via host memory.
    std::unique_ptr<drivers::DmaDriver> dma;
    if (cfg.host.data_movement == "dma") {
      dma = std::make_unique<drivers::DmaDriver>(hal, kIrqLine);
      metapv.set_dma(dma.get());
    }
    drivers::HalAccelerator acc(hal, shapes, metapv, kIrqLine, dma.get());
    // tile.adc_range / tile.adc_calibration: the firmware's ADC set-up (docs/tile.md).
    acc.set_adc_range_mode(fw::parse_adc_range(cfg.tile.adc_range), cfg.tile.adc_range_percentile);
    if (cfg.tile.adc_calibration == "startup") acc.calibrate_adcs();
    res.programmed_s = hal.now_ns() * 1e-9;
    fw::Trainer trainer(cfg.train, acc, static_cast<std::uint64_t>(cfg.sim.seed), std::move(tasks),
                        names);
    trainer.set_batch_norms(std::move(batch_norms));
    for (const auto t : evaluate) res.accuracy.emplace_back(t, trainer.evaluate(t));
    macs = acc.host_macs();
    ops = acc.host_ops();
  };
  sim::install_report_handler(false);
  System sys(cfg, shapes, firmware, true);
  simulate(sys);
  res.simulated_time_s = sc_core::sc_time_stamp().to_seconds();
  charge_host(sys, cfg, macs, ops);
  res.energy_total = sys.ledger().total();
  res.energy_by_component = energy_by_block(sys.ledger());
  res.pv_stats = sys.pv_ctrl().stats();
  return res;
}

}  // namespace memplast::system

// The memplast executable has its own main(); libsystemc still refers to sc_main. A
// weak definition satisfies it without clashing with a testbench's sc_main.
__attribute__((weak)) int sc_main(int /*argc*/, char* /*argv*/[]) { return 0; }
