// Configuration: every fault is a clear error naming the key or file; presets load;
// the docs list exactly the keys the code has.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "config/config.hpp"

using memplast::load_config;
using memplast::cfg::ConfigError;

namespace {
std::filesystem::path source_dir() {
  const char* s = std::getenv("MEMPLAST_SOURCE_DIR");
  return s != nullptr ? std::filesystem::path(s) : std::filesystem::current_path();
}

std::filesystem::path write_tmp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "memplast_config_test";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p;
}

// Runs f, expects ConfigError, returns its message.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError thrown";
  return {};
}
}  // namespace

TEST(Config, DefaultsLoadAndValidate) {
  auto c = load_config("", {});
  ASSERT_TRUE(c.config);
  EXPECT_EQ(c.config->sim.seed, 1);
  EXPECT_TRUE(c.resolved.contains("sim"));
}

TEST(Config, UnknownKeyInFileNamesKeyAndFile) {
  const auto p = write_tmp("unknown.json", R"({"sim": {"seeed": 3}})");
  const auto msg = error_of([&] { load_config(p.string(), {}); });
  EXPECT_NE(msg.find("sim.seeed"), std::string::npos) << msg;
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean"), std::string::npos) << msg;
}

TEST(Config, WrongTypeNamesKey) {
  const auto p = write_tmp("type.json", R"({"sim": {"seed": "three"}})");
  const auto msg = error_of([&] { load_config(p.string(), {}); });
  EXPECT_NE(msg.find("sim.seed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("integer"), std::string::npos) << msg;
  const auto msg2 = error_of([&] { load_config("", {"sim.seed=1.5"}); });
  EXPECT_NE(msg2.find("sim.seed"), std::string::npos) << msg2;
}

TEST(Config, OutOfRangeNamesKey) {
  const auto msg = error_of([&] { load_config("", {"sim.seed=-4"}); });
  EXPECT_NE(msg.find("sim.seed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
}

TEST(Config, BadChoiceNamesKey) {
  const auto msg = error_of([&] { load_config("", {"log.level=loud"}); });
  EXPECT_NE(msg.find("log.level"), std::string::npos) << msg;
}

TEST(Config, MalformedJsonNamesFile) {
  const auto p = write_tmp("malformed.json", R"({"sim": {"seed": 3,,}})");
  const auto msg = error_of([&] { load_config(p.string(), {}); });
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;
}

TEST(Config, MissingFileNamesFile) {
  const auto msg = error_of([&] { load_config("/nonexistent/cfg.json", {}); });
  EXPECT_NE(msg.find("/nonexistent/cfg.json"), std::string::npos) << msg;
}

TEST(Config, BadOverrideSyntax) {
  const auto msg = error_of([&] { load_config("", {"sim.seed"}); });
  EXPECT_NE(msg.find("key=value"), std::string::npos) << msg;
  const auto msg2 = error_of([&] { load_config("", {"nosuch.key=1"}); });
  EXPECT_NE(msg2.find("nosuch.key"), std::string::npos) << msg2;
}

// Found by fuzz_config: an override whose bytes are not UTF-8 made the error message
// itself throw (nlohmann's dump), killing the process instead of reporting the key.
TEST(Config, NonUtf8OverrideIsAClearError) {
  const auto msg = error_of([&] { load_config("", {"tile.rows=6\xb4"}); });
  EXPECT_NE(msg.find("tile.rows"), std::string::npos) << msg;
  EXPECT_NE(msg.find("UTF-8"), std::string::npos) << msg;
  const auto msg2 = error_of([&] { load_config("", {"meta.option=\"s\xb4"}); });
  EXPECT_NE(msg2.find("meta.option"), std::string::npos) << msg2;
}

// Found by fuzz_state in CI: a number beyond double's range is not a JSON parse_error
// but nlohmann's out_of_range (406), which escaped the loaders' handlers.
TEST(Config, NumberOverflowIsAClearError) {
  const auto p = write_tmp("overflow.json", R"({"sim": {"seed": 1e99999}})");
  const auto msg = error_of([&] { load_config(p.string(), {}); });
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
  const auto msg2 = error_of([&] { load_config("", {"sim.seed=1e99999"}); });
  EXPECT_NE(msg2.find("sim.seed"), std::string::npos) << msg2;
}

// Issue 10: pv_ctrl's own pulse timing and energy keys are gone (the tile's keys
// apply); giving one is an error naming it and the key that replaces it.
TEST(Config, RemovedPvTimingKeysAreAClearError) {
  for (const char* k : {"pv.t_set_ns", "pv.t_reset_ns", "pv.e_set_pJ", "pv.e_reset_pJ"}) {
    const auto msg = error_of([&] { load_config("", {std::string(k) + "=100"}); });
    EXPECT_NE(msg.find(std::string("'") + k + "' was removed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tile.t_pulse_ns"), std::string::npos) << msg;
  }
  const auto p = write_tmp("removed.json", R"({"pv": {"t_verify_ns": 50}})");
  const auto msg = error_of([&] { load_config(p.string(), {}); });
  EXPECT_NE(msg.find("'pv.t_verify_ns' was removed"), std::string::npos) << msg;
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { load_config("", {"pv.e_verify_pJ=1"}); }).find("tile.adc_bits"),
            std::string::npos);
}

TEST(Config, OverrideWinsOverFile) {
  const auto p = write_tmp("seed.json", R"({"sim": {"seed": 3}})");
  EXPECT_EQ(load_config(p.string(), {}).config->sim.seed, 3);
  EXPECT_EQ(load_config(p.string(), {"sim.seed=9"}).config->sim.seed, 9);
}

TEST(Config, BaseChainAndPresetsLoad) {
  const auto dir = source_dir() / "configs";
  ASSERT_TRUE(std::filesystem::exists(dir / "paper.json")) << dir;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    SCOPED_TRACE(e.path().string());
    EXPECT_NO_THROW(load_config(e.path().string(), {}));
  }
}

// One truth for levels (issue 19 item 3): meta.levels gives the weight levels; the
// device levels tile.levels are derived from them and the mapping, and a contradicting
// tile.levels is an error naming both keys and the value expected.
TEST(ConfigLevels, DeviceLevelsFollowTheDocumentedRule) {
  using memplast::tile::device_levels_for;
  // Differential: each device holds 0 or one of the positive magnitudes.
  const std::int64_t diff[] = {2, 2, 3, 3, 4, 4, 5, 5};  // L = 2 .. 9
  for (std::int64_t L = 2; L <= 9; ++L) {
    EXPECT_EQ(device_levels_for("differential", L), diff[L - 2]) << "L = " << L;
    EXPECT_EQ(device_levels_for("reference_column", L), L) << "L = " << L;
  }
  EXPECT_THROW((void)device_levels_for("bogus", 3), ConfigError);
}

TEST(ConfigLevels, ConsistentConfigurationsAreAccepted) {
  const auto d = load_config("", {});
  EXPECT_EQ(d.config->tile.levels, 3);         // the tile stores meta.levels
  EXPECT_EQ(d.config->tile.device_levels, 0);  // derived: 2 per device
  const auto five = load_config("", {"meta.levels=5"});
  EXPECT_EQ(five.config->tile.levels, 5);
  EXPECT_EQ(load_config("", {"meta.levels=5", "tile.levels=3"}).config->tile.levels, 5);
  EXPECT_EQ(load_config("", {"meta.levels=4", "tile.levels=3"}).config->tile.levels, 4);
  EXPECT_EQ(load_config("", {"tile.mapping=reference_column", "tile.levels=3"}).config->tile.levels,
            3);
  EXPECT_EQ(load_config("", {"tile.mapping=reference_column", "meta.levels=5", "tile.levels=5"})
                .config->tile.levels,
            5);
  EXPECT_EQ(load_config("", {"tile.levels=2"}).config->tile.levels, 3);
}

TEST(ConfigLevels, ContradictionNamesBothKeysAndTheValueExpected) {
  // The configuration of before this check (tile.levels = meta.levels = 3, differential).
  auto msg = error_of([] { load_config("", {"tile.levels=3"}); });
  EXPECT_NE(msg.find("keys 'tile.levels' (3) and 'meta.levels' (3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tile.mapping = differential"), std::string::npos) << msg;
  EXPECT_NE(msg.find("set tile.levels = 2"), std::string::npos) << msg;
  msg = error_of([] { load_config("", {"meta.levels=5", "tile.levels=5"}); });
  EXPECT_NE(msg.find("keys 'tile.levels' (5) and 'meta.levels' (5)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("need 3 conductance levels per device"), std::string::npos) << msg;
  msg = error_of([] { load_config("", {"tile.mapping=reference_column", "tile.levels=2"}); });
  EXPECT_NE(msg.find("keys 'tile.levels' (2) and 'meta.levels' (3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("set tile.levels = 3"), std::string::npos) << msg;
  msg = error_of([] { load_config("", {"tile.levels=1"}); });
  EXPECT_NE(msg.find("set tile.levels = 2"), std::string::npos) << msg;
}

TEST(Config, PaperPresetEqualsDefaults) {
  // No --config means the paper configuration: the built-in defaults must equal it.
  const auto paper = load_config((source_dir() / "configs" / "paper.json").string(), {});
  const auto defaults = load_config("", {});
  EXPECT_EQ(paper.resolved, defaults.resolved);
}

// configs/paper-multilevel.json (issue 17): the paper's experiment (network, data,
// epochs, hardware model with device effects and relaxation) with each device holding
// at least 3 conductance levels; it differs from configs/paper.json only in the
// multi-level keys.
TEST(Config, PaperMultilevelPresetIsThePaperRunWithMultiLevelDevices) {
  const auto ml = load_config((source_dir() / "configs" / "paper-multilevel.json").string(), {});
  const auto paper = load_config((source_dir() / "configs" / "paper.json").string(), {});
  const auto& c = *ml.config;
  EXPECT_GE(memplast::tile::device_levels_for(c.tile.mapping, c.meta.levels), 3)
      << "a device of the multi-level configuration holds fewer than 3 levels";
  EXPECT_EQ(c.train.mode, "hardware");
  EXPECT_TRUE(c.train.device_effects);
  EXPECT_GT(c.device.relax_scale, 0.0) << "relaxation off";
  const std::set<std::string> allowed{"/meta/levels",
                                      "/tile/mapping",
                                      "/tile/levels",
                                      "/tile/device_levels",
                                      "/pv/band_frac",
                                      "/pv/band_frac_per_level",
                                      "/train/refresh_every_epochs"};
  const auto a = ml.resolved.flatten();
  const auto b = paper.resolved.flatten();
  std::set<std::string> differ;
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!b.contains(it.key()) || b.at(it.key()) != it.value()) {
      // A list element flattens to /key/i: the key is the list.
      std::string k = it.key();
      if (k.rfind("/pv/band_frac_per_level", 0) == 0) k = "/pv/band_frac_per_level";
      differ.insert(k);
    }
  }
  for (auto it = b.begin(); it != b.end(); ++it) {
    if (!a.contains(it.key()))
      differ.insert(it.key().rfind("/pv/band_frac_per_level", 0) == 0 ? "/pv/band_frac_per_level"
                                                                      : it.key());
  }
  EXPECT_FALSE(differ.empty()) << "identical to configs/paper.json";
  for (const auto& k : differ) EXPECT_TRUE(allowed.count(k)) << "differs from paper.json: " << k;
}

TEST(Config, DocsListExactlyTheKeysInCode) {
  const auto doc_path = source_dir() / "docs" / "configuration.md";
  std::ifstream in(doc_path);
  ASSERT_TRUE(in) << doc_path;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  std::set<std::string> in_docs;
  const std::regex row(R"(^\| `([A-Za-z0-9_.]+)` \|)");
  std::istringstream lines(doc);
  bool in_table = false;
  for (std::string line; std::getline(lines, line);) {
    if (line == "<!-- BEGIN GENERATED KEYS -->") in_table = true;
    if (line == "<!-- END GENERATED KEYS -->") in_table = false;
    std::smatch m;
    if (in_table && std::regex_search(line, m, row)) in_docs.insert(m[1]);
  }
  memplast::Config c;
  const auto schema = memplast::make_schema(c);
  std::set<std::string> in_code;
  for (const auto& k : schema.keys()) in_code.insert(k.key);
  for (const auto& k : in_code) {
    EXPECT_TRUE(in_docs.count(k)) << "key '" << k << "' exists in code but not in " << doc_path
                                  << " (regenerate: scripts/gen_docs)";
  }
  for (const auto& k : in_docs) {
    EXPECT_TRUE(in_code.count(k)) << "key '" << k << "' is documented in " << doc_path
                                  << " but does not exist in code";
  }
  // The generated table itself must be current (units, defaults, ranges).
  EXPECT_NE(doc.find(memplast::config_markdown()), std::string::npos)
      << doc_path << " is stale: run scripts/gen_docs";
}
