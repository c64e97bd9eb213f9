// The whole run's configuration: typed, validated, immutable once built.
// Each subsystem owns its parameter struct and the binding of its keys
// (bind_params in its own source); this file only aggregates them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/schema.hpp"
// -- subsystem parameter headers (one line each) --
#include "bus/bus_params.hpp"
#include "bus/dma_params.hpp"
#include "bus/host_params.hpp"
#include "device/device.hpp"
#include "fw/train_params.hpp"
#include "meta/meta_core.hpp"
#include "pv/characterize_params.hpp"
#include "pv/fault_params.hpp"
#include "pv/pv_algo.hpp"
#include "tile/tile_params.hpp"
#include "trace/trace_params.hpp"

namespace memplast {

struct SimParams {
  std::int64_t seed{1};
  std::int64_t threads{0};  // worker threads (common/thread_pool.hpp); 0 = one per CPU
  std::string log_level{"info"};
  std::string log_modules;
  std::string data_dir{"data"};
};

// rtl.*: run a block's Verilated RTL (models/rtl, docs/cosim.md) in place of its C++
// model inside the SystemC model. Needs a build with MEMPLAST_WITH_VERILATOR.
struct RtlParams {
  bool meta{false};  // meta_unit's STEP datapath: meta_update.sv
  bool pv{false};    // pv_ctrl's program-and-verify FSM: pv_fsm.sv
};

struct Config {
  SimParams sim;
  RtlParams rtl;
  // -- subsystem parameter structs (one line each) --
  device::DeviceParams device;
  pv::PvParams pv;
  fw::TrainParams train;
  bus::HostParams host;
  meta::MetaParams meta;
  tile::TileParams tile;
  bus::BusParams bus;
  bus::DmaParams dma;
  bus::HostMemParams host_mem;
  pv::CharacterizeParams characterize;
  trace::TraceParams trace;
  pv::FaultParams faults;
};

// The schema bound to `c`: every key, default, range and doc.
cfg::Schema make_schema(Config& c);

struct LoadedConfig {
  std::shared_ptr<const Config> config;
  nlohmann::json resolved;  // every key with its final value
  std::string source;       // the file it came from, or "(defaults)"
};

// Defaults, then the file (if any; "$base" inside a file names another file,
// relative to it, loaded first), then the --set overrides, then validation.
// Throws cfg::ConfigError naming the key or file.
LoadedConfig load_config(const std::string& path, const std::vector<std::string>& overrides);

// Same, starting from a JSON document (e.g. the resolved configuration stored with a
// trained state) instead of a file; `origin` names it in error messages.
LoadedConfig load_config_json(const nlohmann::json& doc, const std::string& origin,
                              const std::vector<std::string>& overrides);

// Set the process's log levels from log.level and log.modules, and its worker threads
// from sim.threads (loading a configuration has no global side effect; the program calls
// this once it has its configuration).
void configure_logging(const Config& c);

// The markdown table documenting every key (docs/configuration.md is built from it).
std::string config_markdown();

}  // namespace memplast
