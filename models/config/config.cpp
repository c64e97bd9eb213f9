#include "config/config.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/log.hpp"
#include "common/thread_pool.hpp"

namespace memplast {

namespace {
void bind_sim(cfg::Schema& s, SimParams& p) {
  s.add("sim.seed", &p.seed, 0, std::numeric_limits<std::int64_t>::max(), "",
        "Global seed; every random stream (per module, per cell) is derived from it and the "
        "stream's name");
  s.add("sim.threads", &p.threads, 0, 256, "threads",
        "Threads that run the model's independent work at once (ranges of meta_unit's weights "
        "in the update step, the tiles of a functional-mode MVM, a hardware-mode tile's MVM "
        "while the firmware goes on); 0 = one per CPU "
        "(std::thread::hardware_concurrency). Results are bit-identical for any value "
        "(regress_threads)");
  s.add("log.level", &p.log_level, {"trace", "debug", "info", "warn", "error", "off"},
        "Default log level of every module");
  s.add("log.modules", &p.log_modules, {},
        "Per-module levels, e.g. `top.tile0=debug,top.pv*=trace` (a trailing * matches a "
        "prefix)");
  s.add("data.dir", &p.data_dir, {},
        "Folder holding mnist/ and fashion_mnist/ (filled by scripts/setup); relative paths "
        "are taken from the working directory");
  s.add_check([&p] {  // checked only: log::configure is the caller's (configure_logging)
    try {
      (void)log::parse_module_levels(p.log_modules);
    } catch (const std::invalid_argument& e) {
      throw cfg::ConfigError(fmt::format("key 'log.modules': {}", e.what()));
    }
  });
}

void bind_rtl(cfg::Schema& s, RtlParams& p) {
  s.add("rtl.meta", &p.meta,
        "Run meta_unit's STEP update through the Verilated RTL datapath models/rtl/meta_update.sv "
        "(one weight per RTL clock) instead of the C++ fixed-point engine; needs a build with "
        "Verilator (MEMPLAST_WITH_VERILATOR), train.mode = hardware, meta.arithmetic = fixed and "
        "the default meta.* number formats (docs/cosim.md)");
  s.add("rtl.pv", &p.pv,
        "Run pv_ctrl's program-and-verify loops through the Verilated RTL controller "
        "models/rtl/pv_fsm.sv, clocked per event, instead of the C++ PvFsm; the devices stay in "
        "C++ behind the tile's programming port. Needs a build with Verilator, train.mode = "
        "hardware and non-ideal devices (docs/cosim.md)");
}

void apply_file_with_base(cfg::Schema& s, const std::filesystem::path& path, int depth) {
  if (depth > 8) throw cfg::ConfigError(fmt::format("{}: \"$base\" chain too deep", path.string()));
  std::ifstream in(path);
  if (!in) throw cfg::ConfigError(fmt::format("{}: cannot open configuration file", path.string()));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::exception& e) {
    throw cfg::ConfigError(fmt::format("{}: malformed JSON: {}", path.string(), e.what()));
  }
  if (doc.is_object() && doc.contains("$base")) {
    if (!doc["$base"].is_string()) {
      throw cfg::ConfigError(fmt::format("{}: \"$base\" must be a file name", path.string()));
    }
    apply_file_with_base(s, path.parent_path() / doc["$base"].get<std::string>(), depth + 1);
    doc.erase("$base");
  }
  s.apply_json(doc, path.string());
}
}  // namespace

cfg::Schema make_schema(Config& c) {
  cfg::Schema s;
  bind_sim(s, c.sim);
  bind_rtl(s, c.rtl);
  // -- subsystem bindings (one line each) --
  device::bind_params(s, c.device);
  pv::bind_params(s, c.pv);
  fw::bind_params(s, c.train);
  bus::bind_params(s, c.host);
  meta::bind_params(s, c.meta);
  tile::bind_params(s, c.tile);
  bus::bind_params(s, c.bus);
  bus::bind_params(s, c.dma);
  bus::bind_params(s, c.host_mem);
  pv::bind_params(s, c.characterize);
  trace::bind_params(s, c.trace);
  pv::bind_params(s, c.faults);
  // One truth for levels: meta.levels (weight levels) gives the tile its levels and
  // the device levels tile.levels must match (tile::resolve_levels).
  s.add_check([&c] { tile::resolve_levels(c.tile, c.meta.levels); });
  return s;
}

LoadedConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  auto c = std::make_shared<Config>();
  auto schema = make_schema(*c);
  schema.reset_defaults();
  LoadedConfig out;
  out.source = "(defaults)";
  if (!path.empty()) {
    apply_file_with_base(schema, path, 0);
    out.source = path;
  }
  for (const auto& o : overrides) schema.apply_override(o);
  schema.validate();
  out.resolved = schema.to_json();
  out.config = std::move(c);
  return out;
}

LoadedConfig load_config_json(const nlohmann::json& doc, const std::string& origin,
                              const std::vector<std::string>& overrides) {
  auto c = std::make_shared<Config>();
  auto schema = make_schema(*c);
  schema.reset_defaults();
  schema.apply_json(doc, origin);
  for (const auto& o : overrides) schema.apply_override(o);
  schema.validate();
  LoadedConfig out;
  out.source = origin;
  out.resolved = schema.to_json();
  out.config = std::move(c);
  return out;
}

void configure_logging(const Config& c) {
  log::configure(log::parse_level(c.sim.log_level), c.sim.log_modules);
  set_threads(c.sim.threads > 0 ? static_cast<unsigned>(c.sim.threads) : default_threads());
}

std::string config_markdown() {
  Config c;
  return make_schema(c).markdown();
}

}  // namespace memplast
