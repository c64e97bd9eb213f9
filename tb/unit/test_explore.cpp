// Sweep specifications (expansion, validation), metric paths, statistics, Pareto
// fronts and the aggregation of run folders. No processes are started here.
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/output.hpp"
#include "common/schema.hpp"
#include "explore/metric_path.hpp"
#include "explore/results.hpp"
#include "explore/sweep_spec.hpp"

using memplast::cfg::ConfigError;
using nlohmann::json;
namespace ex = memplast::explore;
namespace fs = std::filesystem;

namespace {

ex::SweepSpec spec_of(const json& doc) { return ex::parse_spec(doc, "spec.json", "."); }

// The error message parse_spec throws for `doc`, or "" if it does not throw.
std::string error_of(const json& doc) {
  try {
    (void)spec_of(doc);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

json base_doc() { return json{{"metrics", {"accuracy.after_task[-1].accuracy.mnist"}}}; }

}  // namespace

TEST(MetricPath, ParsesAndResolves) {
  const json doc = json::parse(R"({"accuracy": {"after_task": [
      {"task": "mnist", "accuracy": {"mnist": 0.9}},
      {"task": "fashion_mnist", "accuracy": {"mnist": 0.7, "fashion_mnist": 0.8}}]},
      "energy_j": {"total": 2.5e-3}, "ok": true, "name": "x"})");
  EXPECT_DOUBLE_EQ(*ex::MetricPath::parse("accuracy.after_task[-1].accuracy.mnist").resolve(doc),
                   0.7);
  EXPECT_DOUBLE_EQ(*ex::MetricPath::parse("accuracy.after_task[0].accuracy.mnist").resolve(doc),
                   0.9);
  EXPECT_DOUBLE_EQ(
      *ex::MetricPath::parse("accuracy.after_task[task=fashion_mnist].accuracy.fashion_mnist")
           .resolve(doc),
      0.8);
  EXPECT_DOUBLE_EQ(*ex::MetricPath::parse("energy_j.total").resolve(doc), 2.5e-3);
  EXPECT_DOUBLE_EQ(*ex::MetricPath::parse("ok").resolve(doc), 1.0);
  std::string why;
  EXPECT_FALSE(ex::MetricPath::parse("energy_j.totl").resolve(doc, &why));
  EXPECT_NE(why.find("no member 'totl' in energy_j"), std::string::npos) << why;
  EXPECT_FALSE(ex::MetricPath::parse("accuracy.after_task[2].task").resolve(doc, &why));
  EXPECT_NE(why.find("out of range"), std::string::npos) << why;
  EXPECT_FALSE(ex::MetricPath::parse("name").resolve(doc, &why));
  EXPECT_NE(why.find("not a number"), std::string::npos) << why;
  EXPECT_FALSE(ex::MetricPath::parse("energy_j[0]").resolve(doc, &why));
}

TEST(MetricPath, MalformedPathsAreErrors) {
  for (const char* bad : {"", "a..b", ".a", "a.", "a[1", "a[1.5]", "a[]", "a b", "a[=x]", "a]"}) {
    EXPECT_THROW(ex::MetricPath::parse(bad), std::invalid_argument) << bad;
  }
  try {
    ex::MetricPath::parse("accuracy..mnist");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'accuracy..mnist' at character 10"), std::string::npos)
        << e.what();
  }
}

TEST(SweepSpec, GridOfListsAndRangesFirstAxisSlowest) {
  auto doc = base_doc();
  doc["vary"] = json::parse(R"([{"key": "meta.m_star", "values": [0, 1.5]},
                                {"key": "tile.adc_bits", "range": {"from": 4, "to": 8, "step": 2}}])");
  doc["seeds"] = {{"count", 3}, {"first", 7}};
  const auto s = spec_of(doc);
  ASSERT_EQ(s.points.size(), 6U);
  EXPECT_EQ(s.seeds, (std::vector<std::int64_t>{7, 8, 9}));
  EXPECT_EQ(s.varied_keys, (std::vector<std::string>{"meta.m_star", "tile.adc_bits"}));
  EXPECT_EQ(s.points[0].name, "m_star-0_adc_bits-4");
  EXPECT_EQ(s.points[1].name, "m_star-0_adc_bits-6");
  EXPECT_EQ(s.points[2].name, "m_star-0_adc_bits-8");
  EXPECT_EQ(s.points[3].name, "m_star-1.5_adc_bits-4");
  EXPECT_TRUE(s.points[2].params[1].second.is_number_integer());
  EXPECT_EQ(ex::run_overrides(s, s.points[3], 8),
            (std::vector<std::string>{"meta.m_star=1.5", "tile.adc_bits=4", "sim.seed=8"}));
}

TEST(SweepSpec, RealRangeHasNoRoundingDrift) {
  auto doc = base_doc();
  doc["vary"] = json::parse(
      R"([{"key": "device.c2c_scale", "range": {"from": 0.1, "to": 0.5, "step": 0.1}}])");
  const auto s = spec_of(doc);
  ASSERT_EQ(s.points.size(), 5U);
  EXPECT_EQ(s.points[2].params[0].second.get<double>(), 0.3);
  EXPECT_EQ(s.points[4].name, "c2c_scale-0.5");
}

TEST(SweepSpec, ZipPairsValuesAndChecksLengths) {
  auto doc = base_doc();
  doc["vary"] = json::parse(R"([{"zip": [{"key": "meta.levels", "values": [3, 5, 7]},
                                         {"key": "tile.levels", "range": {"from": 3, "to": 7, "step": 2}}]},
                                {"key": "train.mode", "values": ["functional", "hardware"]}])");
  const auto s = spec_of(doc);
  ASSERT_EQ(s.points.size(), 6U);
  // Both keys end in "levels": the full key names them apart.
  EXPECT_EQ(s.points[0].name, "meta.levels-3_tile.levels-3_mode-functional");
  EXPECT_EQ(s.points[5].name, "meta.levels-7_tile.levels-7_mode-hardware");
  EXPECT_EQ(ex::run_overrides(s, s.points[5], 1)[2], "train.mode=\"hardware\"");

  doc["vary"][0]["zip"][1]["range"]["to"] = 9;
  const auto err = error_of(doc);
  EXPECT_NE(err.find("vary[0].zip[1]: 'tile.levels' has 4 values but the first zipped key has 3"),
            std::string::npos)
      << err;
}

TEST(SweepSpec, RandomSamplesAreSeededAndInBounds) {
  auto doc = base_doc();
  doc["vary"] = json::parse(R"([{"random": {"count": 20, "seed": 5, "params": [
      {"key": "device.c2c_scale", "min": 0.5, "max": 2.0, "scale": "log"},
      {"key": "tile.adc_bits", "min": 3, "max": 8, "integer": true},
      {"key": "meta.optimizer", "choices": ["adam", "sgd"]}]}}])");
  const auto a = spec_of(doc);
  const auto b = spec_of(doc);
  ASSERT_EQ(a.points.size(), 20U);
  std::set<std::int64_t> bits;
  std::set<std::string> names;
  for (std::size_t i = 0; i < a.points.size(); ++i) {
    EXPECT_EQ(a.points[i].params, b.points[i].params);  // same seed, same samples
    const double c = a.points[i].params[0].second.get<double>();
    EXPECT_GE(c, 0.5);
    EXPECT_LE(c, 2.0);
    const auto ab = a.points[i].params[1].second.get<std::int64_t>();
    EXPECT_GE(ab, 3);
    EXPECT_LE(ab, 8);
    bits.insert(ab);
    names.insert(a.points[i].name);
  }
  EXPECT_GE(bits.size(), 4U);
  EXPECT_EQ(names.size(), 20U);
  doc["vary"][0]["random"]["seed"] = 6;
  const auto c = spec_of(doc);
  bool differs = false;
  for (std::size_t i = 0; i < a.points.size(); ++i)
    differs = differs || a.points[i].params != c.points[i].params;
  EXPECT_TRUE(differs);
  doc["vary"][0]["random"].erase("seed");
  EXPECT_NE(error_of(doc).find("vary[0].random.seed"), std::string::npos);
}

TEST(SweepSpec, ValidationErrorsNameTheField) {
  struct Case {
    const char* what;
    json doc;
    const char* expect;
  };
  auto with = [](const char* key, json v) {
    auto d = base_doc();
    d[key] = std::move(v);
    return d;
  };
  const std::vector<Case> cases{
      {"unknown key", with("vary", json::parse(R"([{"key": "meta.mstar", "values": [1]}])")),
       "vary[0].key: unknown configuration key 'meta.mstar'"},
      {"unknown key in set", with("set", json::parse(R"({"train.hiden": 3})")),
       "set: unknown configuration key 'train.hiden'"},
      {"seed varied", with("vary", json::parse(R"([{"key": "sim.seed", "values": [1]}])")),
       "use \"seeds\""},
      {"top-level typo", with("seed", 3), "top level: unknown field 'seed'"},
      {"malformed metric", with("metrics", json::parse(R"({"acc": "accuracy..x"})")),
       "metrics.acc: malformed metric path 'accuracy..x'"},
      {"metric not a string", with("metrics", json::parse(R"([3])")), "metrics[0]"},
      {"no metrics", json::object(), "missing field 'metrics'"},
      {"axis typo", with("vary", json::parse(R"([{"key": "meta.m_star", "value": [1]}])")),
       "vary[0]: unknown field 'value'"},
      {"empty values", with("vary", json::parse(R"([{"key": "meta.m_star", "values": []}])")),
       "vary[0].values: expected a non-empty list"},
      {"bad range",
       with("vary", json::parse(R"([{"key": "meta.m_star", "range": {"from": 3, "to": 1}}])")),
       "vary[0].range: step 1 does not lead from 3 to 1"},
      {"varied twice", with("vary", json::parse(R"([{"key": "meta.m_star", "values": [1]},
                                                     {"key": "meta.m_star", "values": [2]}])")),
       "vary[1]: key 'meta.m_star' is varied twice"},
      {"pareto metric", with("pareto", json::parse(R"({"x": "energy", "y": "acc"})")),
       "pareto: 'energy' is not one of the metrics"},
      {"seeds", with("seeds", json::parse(R"([1, 1])")), "seeds: seed 1 listed twice"},
      {"base", with("base", "no-such-file.json"), "base: no such file"},
      {"slurm typo", with("slurm", json::parse(R"({"partion": "debug"})")),
       "slurm: unknown field 'partion'"},
      {"slurm chunk", with("slurm", json::parse(R"({"chunk": 0})")),
       "slurm.chunk: expected an integer >= 1"},
      {"slurm cpus", with("slurm", json::parse(R"({"cpus_per_task": -1})")),
       "slurm.cpus_per_task: expected an integer >= 0"},
  };
  for (const auto& c : cases) {
    const auto err = error_of(c.doc);
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.what << ": " << err;
    EXPECT_EQ(err.rfind("spec.json: ", 0), 0U) << c.what << ": " << err;
  }
}

TEST(SweepSpec, SlurmSettings) {
  const auto defaults = spec_of(base_doc());
  EXPECT_EQ(defaults.slurm.partition, "");
  EXPECT_EQ(defaults.slurm.time, "00:30:00");
  EXPECT_EQ(defaults.slurm.cpus_per_task, 1);
  EXPECT_EQ(defaults.slurm.chunk, 1);
  auto d = base_doc();
  d["slurm"] = json::parse(R"({"partition": "gpu", "time": "01:00:00", "cpus_per_task": 4,
                               "mem": "2G", "max_parallel": 8, "chunk": 3})");
  const auto s = spec_of(d).slurm;
  EXPECT_EQ(s.partition, "gpu");
  EXPECT_EQ(s.time, "01:00:00");
  EXPECT_EQ(s.cpus_per_task, 4);
  EXPECT_EQ(s.mem, "2G");
  EXPECT_EQ(s.max_parallel, 8);
  EXPECT_EQ(s.chunk, 3);
}

TEST(SweepSpec, ValidatePointsLoadsEveryConfiguration) {
  auto doc = base_doc();
  doc["vary"] = json::parse(R"([{"key": "tile.adc_bits", "values": [4, 99]}])");
  const auto s = spec_of(doc);  // the value range is the configuration's business
  try {
    (void)ex::validate_points(s);
    FAIL() << "adc_bits 99 accepted";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("point adc_bits-99 (seed 1)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tile.adc_bits"), std::string::npos) << msg;
  }
  doc["vary"][0]["values"] = {4, 6};
  doc["seeds"] = {1, 2};
  const auto ok = ex::validate_points(spec_of(doc));
  ASSERT_EQ(ok.size(), 2U);
  EXPECT_EQ(ok[1][1]["tile"]["adc_bits"], 6);
  EXPECT_EQ(ok[1][1]["sim"]["seed"], 2);
}

TEST(SweepSpec, PointNamesAreSanitisedAndBounded) {
  using P = std::vector<std::pair<std::string, json>>;
  EXPECT_EQ(ex::point_name(P{{"train.tasks", "mnist,fashion/x"}}, {"train.tasks"}),
            "tasks-mnist_fashion_x");
  EXPECT_EQ(ex::point_name(P{{"train.epochs", json{2, 3}}}, {"train.epochs"}), "epochs-2x3");
  EXPECT_EQ(ex::point_name(P{}, {}), "base");
  const std::string longv(300, 'a');
  const auto n1 = ex::point_name(P{{"train.tasks", longv}}, {"train.tasks"});
  const auto n2 = ex::point_name(P{{"train.tasks", longv + "b"}}, {"train.tasks"});
  EXPECT_LE(n1.size(), 120U);
  EXPECT_NE(n1, n2);
}

TEST(Stats, MeanStdAndStudentT) {
  EXPECT_NEAR(ex::t_quantile_975(1), 12.7062, 1e-4);
  EXPECT_NEAR(ex::t_quantile_975(2), 4.3027, 1e-4);
  EXPECT_NEAR(ex::t_quantile_975(4), 2.7764, 1e-4);
  EXPECT_NEAR(ex::t_quantile_975(1000), 1.9623, 1e-4);
  const auto s = ex::compute_stats({1.0, 2.0, 3.0});
  EXPECT_EQ(s.n, 3U);
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
  EXPECT_DOUBLE_EQ(s.std, 1.0);
  EXPECT_NEAR(s.ci_hi - s.mean, 4.302653 / std::sqrt(3.0), 1e-5);
  EXPECT_NEAR(s.mean - s.ci_lo, 4.302653 / std::sqrt(3.0), 1e-5);
  const auto one = ex::compute_stats({5.0});
  EXPECT_EQ(one.std, 0.0);
  EXPECT_EQ(one.ci_lo, 5.0);
  EXPECT_EQ(ex::compute_stats({}).n, 0U);
}

TEST(Pareto, NonDominatedPoints) {
  using XY = std::optional<std::pair<double, double>>;
  // x = energy (minimise), y = accuracy (maximise)
  const std::vector<XY> pts{XY{{1.0, 0.5}}, XY{{2.0, 0.9}}, XY{{2.0, 0.8}}, XY{{3.0, 0.9}},
                            std::nullopt,   XY{{0.5, 0.4}}, XY{{1.0, 0.5}}};
  const auto f = ex::pareto_front(pts, false, true);
  EXPECT_EQ(f, (std::vector<bool>{true, true, false, false, false, true, true}));
  const auto g = ex::pareto_front(pts, true, true);  // maximise both
  EXPECT_EQ(g, (std::vector<bool>{false, false, false, true, false, false, false}));
}

TEST(Aggregate, CountsCompleteFailedMissingAndFlagsBadMetrics) {
  const fs::path out = fs::temp_directory_path() / ("test_explore_" + std::to_string(::getpid()));
  fs::remove_all(out);
  auto doc = json::parse(
      R"({"metrics": {"acc": "accuracy.after_task[-1].accuracy.mnist", "e": "energy_j.total"},
                             "vary": [{"key": "meta.m_star", "values": [0, 1]}], "seeds": [1, 2, 3],
                             "pareto": {"x": "e", "y": "acc"}})");
  const auto s = spec_of(doc);
  auto summary = [](double acc, double e) {
    return json{{"accuracy", {{"after_task", {{{"accuracy", {{"mnist", acc}}}}}}}},
                {"energy_j", {{"total", e}}}};
  };
  auto put = [&](std::size_t p, std::int64_t seed, const json& j) {
    const auto d = ex::run_dir(out, s.points[p], seed);
    fs::create_directories(d);
    memplast::write_file_atomic(d / "summary.json", j.dump());
  };
  put(0, 1, summary(0.5, 1.0));
  put(0, 2, summary(0.6, 1.0));
  put(0, 3, summary(0.7, 1.0));
  put(1, 1, summary(0.9, 2.0));
  auto interrupted = summary(0.1, 0.1);
  interrupted["status"] = "interrupted";
  put(1, 2, interrupted);  // not complete: counted missing, to be rerun
  const auto d13 = ex::run_dir(out, s.points[1], 3);
  fs::create_directories(d13);
  ex::write_exit_record(d13, ex::ExitRecord{3, "memplast: error: boom", 0.5, "local", ""});

  EXPECT_TRUE(ex::run_complete(ex::run_dir(out, s.points[0], 1)));
  EXPECT_FALSE(ex::run_complete(ex::run_dir(out, s.points[1], 2)));
  EXPECT_FALSE(ex::run_complete(d13));

  const auto a = ex::aggregate(s, out);
  EXPECT_EQ(a.complete, 4U);
  EXPECT_EQ(a.failed, 1U);
  EXPECT_EQ(a.missing, 1U);
  EXPECT_TRUE(a.metric_errors.empty());
  const auto& p0 = a.json["points"][0];
  EXPECT_NEAR(p0["metrics"]["acc"]["mean"].get<double>(), 0.6, 1e-12);
  EXPECT_NEAR(p0["metrics"]["acc"]["std"].get<double>(), 0.1, 1e-12);
  EXPECT_NEAR(p0["metrics"]["acc"]["ci95_hi"].get<double>(), 0.6 + 4.302653 * 0.1 / std::sqrt(3.0),
              1e-6);
  EXPECT_TRUE(p0["pareto"].get<bool>());
  EXPECT_TRUE(a.json["points"][1]["pareto"].get<bool>());  // more energy, more accuracy
  ASSERT_EQ(a.json["failures"].size(), 1U);
  EXPECT_EQ(a.json["failures"][0]["exit_status"], 3);
  EXPECT_EQ(a.json["failures"][0]["error"], "memplast: error: boom");
  EXPECT_NE(a.csv.find("point,meta.m_star,runs_complete,runs_failed,runs_missing,acc_n,acc_mean"),
            std::string::npos)
      << a.csv;
  EXPECT_NE(a.csv.find("\nm_star-1,1,1,1,1,1,0.9,0,0.9,0.9,"), std::string::npos) << a.csv;

  put(1, 1, json{{"energy_j", {{"total", 2.0}}}});  // the accuracy path is not in this summary
  const auto b = ex::aggregate(s, out);
  ASSERT_EQ(b.metric_errors.size(), 1U);
  EXPECT_NE(b.metric_errors[0].find("metric 'acc'"), std::string::npos) << b.metric_errors[0];
  fs::remove_all(out);
}
