// Sweep specifications: a base configuration, the parameters to vary (lists, ranges,
// zipped lists, seeded random samples, combined as a grid), the seeds per point, the
// metrics to collect from each run's summary.json and the backend settings. Plain C++
// (no SystemC, no processes): parsing, validation and expansion into design points.
// The format is documented in docs/exploration.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "explore/metric_path.hpp"

namespace memplast::explore {

struct Metric {
  std::string name;  // column name in results.csv
  MetricPath path;
};

struct ParetoSpec {
  std::string x;  // metric names
  std::string y;
  bool x_maximize{false};
  bool y_maximize{true};
};

struct SlurmSpec {
  std::string partition;  // empty: the cluster's default partition
  std::string time{"00:30:00"};
  int cpus_per_task{1};
  std::string mem;      // e.g. "2G"; empty: the cluster's default
  int max_parallel{0};  // array throttle (%N); 0: no limit
  int chunk{1};         // runs per array task, run one after the other
};

// One design point: the varied keys with their values, in spec order.
struct Point {
  std::vector<std::pair<std::string, nlohmann::json>> params;
  std::string name;  // folder name, derived from params (sanitised, stable)
};

struct SweepSpec {
  std::string source;                    // the spec file
  std::string base;                      // base configuration file (resolved path; empty: defaults)
  std::vector<std::string> set;          // fixed overrides "key=json" applied to every point
  std::vector<std::string> varied_keys;  // every key the vary axes set, in order
  std::vector<Point> points;
  std::vector<std::int64_t> seeds;
  std::vector<Metric> metrics;
  bool has_pareto{false};
  ParetoSpec pareto;
  SlurmSpec slurm;
};

// Parse and expand a spec document. `origin` names it in errors; relative "base"
// paths resolve against `dir`. Throws cfg::ConfigError naming the spec file and the
// offending field (an unknown field, an unknown configuration key, a malformed metric
// path, an empty or inconsistent axis). Configuration values are not checked here:
// validate_points() loads every point's configuration.
SweepSpec parse_spec(const nlohmann::json& doc, const std::string& origin, const std::string& dir);
SweepSpec load_spec(const std::string& path);

// The "key=value" overrides of one run (fixed set, then the point's parameters, then
// sim.seed).
std::vector<std::string> run_overrides(const SweepSpec& spec, const Point& p, std::int64_t seed);

// Load and validate every point's configuration (every seed) before any run starts;
// the error names the point and the key. Returns the resolved configuration of each
// (point, seed), indexed [point][seed].
std::vector<std::vector<nlohmann::json>> validate_points(const SweepSpec& spec);

// Folder name of a point from its parameters: "<short key>-<value>" joined by "_",
// characters outside [A-Za-z0-9.+-] replaced, the last key component used unless two
// varied keys share it. Long names are cut and suffixed with a stable hash.
std::string point_name(const std::vector<std::pair<std::string, nlohmann::json>>& params,
                       const std::vector<std::string>& varied_keys);

}  // namespace memplast::explore
