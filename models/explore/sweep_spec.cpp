#include "explore/sweep_spec.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "common/rng.hpp"
#include "common/schema.hpp"
#include "config/config.hpp"

namespace memplast::explore {

using nlohmann::json;
using Assignment = std::vector<std::pair<std::string, json>>;  // one axis entry

namespace {

constexpr std::size_t kMaxPoints = 100000;

class Parser {
 public:
  Parser(std::string origin) : origin_(std::move(origin)) {
    Config c;
    const auto schema = make_schema(c);
    for (const auto& k : schema.keys()) keys_.insert(k.key);
  }

  [[noreturn]] void fail(const std::string& where, const std::string& msg) const {
    throw cfg::ConfigError(fmt::format("{}: {}: {}", origin_, where, msg));
  }

  void only(const json& obj, const std::string& where,
            std::initializer_list<const char*> allowed) const {
    if (!obj.is_object()) fail(where, fmt::format("expected an object, got {}", obj.type_name()));
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (it.key() == "$comment") continue;
      bool ok = false;
      for (const char* a : allowed) ok = ok || it.key() == a;
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(where, fmt::format("unknown field '{}' (expected one of: {})", it.key(), list));
      }
    }
  }

  void check_key(const std::string& key, const std::string& where) const {
    if (key == "sim.seed") fail(where, "'sim.seed' cannot be varied or set here: use \"seeds\"");
    if (keys_.count(key) == 0) {
      fail(where, fmt::format("unknown configuration key '{}' (see docs/configuration.md)", key));
    }
  }

  std::string string_field(const json& obj, const char* field, const std::string& where) const {
    if (!obj.contains(field)) fail(where, fmt::format("missing field '{}'", field));
    if (!obj[field].is_string()) fail(where + "." + field, "expected a string");
    return obj[field].get<std::string>();
  }

  double number_field(const json& obj, const char* field, const std::string& where) const {
    if (!obj.contains(field)) fail(where, fmt::format("missing field '{}'", field));
    if (!obj[field].is_number()) fail(where + "." + field, "expected a number");
    return obj[field].get<double>();
  }

  // A single-key axis: {"key", "values"} or {"key", "range"}. Returns the key's values.
  std::pair<std::string, std::vector<json>> single(const json& ax, const std::string& where) const {
    only(ax, where, {"key", "values", "range"});
    const auto key = string_field(ax, "key", where);
    check_key(key, where + ".key");
    const bool has_values = ax.contains("values");
    const bool has_range = ax.contains("range");
    if (has_values == has_range) fail(where, "give exactly one of 'values' or 'range'");
    std::vector<json> vals;
    if (has_values) {
      if (!ax["values"].is_array() || ax["values"].empty()) {
        fail(where + ".values", "expected a non-empty list");
      }
      for (const auto& v : ax["values"]) vals.push_back(v);
    } else {
      const auto& r = ax["range"];
      const std::string rw = where + ".range";
      only(r, rw, {"from", "to", "step"});
      const double from = number_field(r, "from", rw);
      const double to = number_field(r, "to", rw);
      const double step = r.contains("step") ? number_field(r, "step", rw) : 1.0;
      if (step == 0.0 || (to - from) * step < 0.0) {
        fail(rw, fmt::format("step {} does not lead from {} to {}", step, from, to));
      }
      const bool ints = r["from"].is_number_integer() && r["to"].is_number_integer() &&
                        (!r.contains("step") || r["step"].is_number_integer());
      const double n_real = std::floor((to - from) / step + 1e-9) + 1.0;
      if (n_real > static_cast<double>(kMaxPoints)) fail(rw, "more than 100000 values");
      const auto n = static_cast<std::size_t>(n_real);
      for (std::size_t i = 0; i < n; ++i) {
        const double v = from + static_cast<double>(i) * step;
        if (ints) {
          vals.emplace_back(static_cast<std::int64_t>(std::llround(v)));
        } else {
          // Round away the accumulated binary error (0.1 + 2 * 0.1 -> 0.3).
          vals.emplace_back(std::stod(fmt::format("{:.12g}", v)));
        }
      }
    }
    return {key, vals};
  }

  std::vector<Assignment> axis(const json& ax, const std::string& where) const {
    if (!ax.is_object()) fail(where, "expected an object");
    if (ax.contains("zip")) return zip_axis(ax, where);
    if (ax.contains("random")) return random_axis(ax, where);
    std::vector<Assignment> out;
    auto [key, vals] = single(ax, where);
    for (auto& v : vals) out.push_back(Assignment{{key, v}});
    return out;
  }

 private:
  // {"zip": [single, single, ...]}: keys varied together, value by value.
  std::vector<Assignment> zip_axis(const json& ax, const std::string& where) const {
    std::vector<Assignment> out;
    only(ax, where, {"zip"});
    if (!ax["zip"].is_array() || ax["zip"].size() < 2) {
      fail(where + ".zip", "expected a list of at least two {\"key\", \"values\"|\"range\"}");
    }
    std::size_t n = 0;
    for (std::size_t i = 0; i < ax["zip"].size(); ++i) {
      const auto w = fmt::format("{}.zip[{}]", where, i);
      auto [key, vals] = single(ax["zip"][i], w);
      if (i == 0) {
        n = vals.size();
        out.resize(n);
      } else if (vals.size() != n) {
        fail(w, fmt::format("'{}' has {} values but the first zipped key has {}", key, vals.size(),
                            n));
      }
      for (std::size_t k = 0; k < n; ++k) out[k].emplace_back(key, vals[k]);
    }
    return out;
  }

  // {"random": {"count", "seed", "params"}}: seeded random samples. Every parameter is
  // validated first, then the samples are drawn one by one.
  std::vector<Assignment> random_axis(const json& ax, const std::string& where) const {
    only(ax, where, {"random"});
    const auto& r = ax["random"];
    const std::string rw = where + ".random";
    only(r, rw, {"count", "seed", "params"});
    if (!r.contains("count") || !r["count"].is_number_integer() ||
        r["count"].get<std::int64_t>() < 1 ||
        r["count"].get<std::int64_t>() > static_cast<std::int64_t>(kMaxPoints)) {
      fail(rw + ".count", "expected an integer in [1, 100000]");
    }
    if (!r.contains("seed") || !r["seed"].is_number_integer()) {
      fail(rw + ".seed", "expected an integer (random samples are always seeded)");
    }
    if (!r.contains("params") || !r["params"].is_array() || r["params"].empty()) {
      fail(rw + ".params", "expected a non-empty list");
    }
    for (std::size_t j = 0; j < r["params"].size(); ++j) {
      check_random_param(r["params"][j], fmt::format("{}.params[{}]", rw, j));
    }
    const auto count = r["count"].get<std::size_t>();
    Rng rng(static_cast<std::uint64_t>(r["seed"].get<std::int64_t>()), "sweep.random");
    std::vector<Assignment> out(count);
    for (std::size_t k = 0; k < count; ++k) {
      for (const auto& p : r["params"])
        out[k].emplace_back(p["key"].get<std::string>(), draw(p, rng));
    }
    return out;
  }

  // One parameter of a random axis: "choices", or "min"/"max" with "scale" and "integer".
  void check_random_param(const json& p, const std::string& pw) const {
    only(p, pw, {"key", "min", "max", "scale", "integer", "choices"});
    check_key(string_field(p, "key", pw), pw + ".key");
    if (p.contains("choices")) {
      if (!p["choices"].is_array() || p["choices"].empty())
        fail(pw + ".choices", "expected a non-empty list");
      if (p.contains("min") || p.contains("max")) fail(pw, "give either 'choices' or 'min'/'max'");
      return;
    }
    const double lo = number_field(p, "min", pw);
    const double hi = number_field(p, "max", pw);
    if (!(hi >= lo)) fail(pw, fmt::format("max {} is below min {}", hi, lo));
    if (p.contains("scale")) {
      const auto sc = string_field(p, "scale", pw);
      if (sc != "linear" && sc != "log") fail(pw + ".scale", "expected \"linear\" or \"log\"");
      if (sc == "log" && lo <= 0.0) fail(pw, "a log scale needs min > 0");
    }
    if (p.contains("integer") && !p.at("integer").is_boolean())
      fail(pw + ".integer", "expected true or false");
  }

  // One sample of a checked random-axis parameter.
  static json draw(const json& p, Rng& rng) {
    if (p.contains("choices")) return p["choices"][rng.below(p["choices"].size())];
    const double lo = p["min"].get<double>();
    const double hi = p["max"].get<double>();
    const bool log_scale = p.contains("scale") && p["scale"] == "log";
    const bool integer = p.value("integer", false);
    double v = log_scale ? std::exp(rng.uniform(std::log(lo), std::log(hi))) : rng.uniform(lo, hi);
    if (integer) {
      return std::clamp<std::int64_t>(std::llround(v), static_cast<std::int64_t>(std::ceil(lo)),
                                      static_cast<std::int64_t>(std::floor(hi)));
    }
    return std::stod(fmt::format("{:.6g}", v));
  }

  std::string origin_;
  std::set<std::string> keys_;
};

std::string format_value(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : "x") + format_value(e);
    return s;
  }
  return v.dump();
}

std::string sanitise(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '+' || c == '-';
    out += ok ? c : '_';
  }
  return out;
}

std::string hash_hex(const std::string& s) {
  return fmt::format("{:012x}", name_hash(s) & 0xFFFFFFFFFFFFULL);
}

}  // namespace

std::string point_name(const std::vector<std::pair<std::string, json>>& params,
                       const std::vector<std::string>& varied_keys) {
  if (params.empty()) return "base";
  auto last = [](const std::string& k) { return k.substr(k.rfind('.') + 1); };
  std::map<std::string, int> uses;
  for (const auto& k : varied_keys) ++uses[last(k)];
  std::string name;
  json canon = json::array();
  for (const auto& [k, v] : params) {
    const std::string shortk = uses[last(k)] > 1 ? k : last(k);
    name += (name.empty() ? "" : "_") + sanitise(shortk) + "-" + sanitise(format_value(v));
    canon.push_back({k, v});
  }
  if (name.size() > 120) name = name.substr(0, 100) + "_" + hash_hex(canon.dump());
  return name;
}

namespace {

// "base": the configuration the points start from, relative to the spec's folder.
void parse_base(const Parser& ps, const json& doc, const std::string& dir, SweepSpec& spec) {
  if (!doc.contains("base")) return;
  if (!doc["base"].is_string()) ps.fail("base", "expected a configuration file name");
  std::filesystem::path b = doc["base"].get<std::string>();
  if (b.is_relative()) b = std::filesystem::path(dir) / b;
  spec.base = b.lexically_normal().string();
  if (!std::filesystem::exists(spec.base))
    ps.fail("base", fmt::format("no such file: {}", spec.base));
}

// "set": keys fixed for every point. Returns those keys.
std::set<std::string> parse_set(const Parser& ps, const json& doc, SweepSpec& spec) {
  std::set<std::string> fixed;
  if (!doc.contains("set")) return fixed;
  if (!doc["set"].is_object()) ps.fail("set", "expected an object of \"key\": value");
  for (auto it = doc["set"].begin(); it != doc["set"].end(); ++it) {
    ps.check_key(it.key(), "set");
    spec.set.push_back(it.key() + "=" + it.value().dump());
    fixed.insert(it.key());
  }
  return fixed;
}

// "vary": the axes; a key is varied once and is not also in "set".
std::vector<std::vector<Assignment>> parse_axes(const Parser& ps, const json& doc,
                                                const std::set<std::string>& fixed,
                                                SweepSpec& spec) {
  std::vector<std::vector<Assignment>> axes;
  if (!doc.contains("vary")) return axes;
  if (!doc["vary"].is_array()) ps.fail("vary", "expected a list of axes");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < doc["vary"].size(); ++i) {
    const auto where = fmt::format("vary[{}]", i);
    auto ax = ps.axis(doc["vary"][i], where);
    for (const auto& [k, v] : ax.front()) {
      if (!seen.insert(k).second) ps.fail(where, fmt::format("key '{}' is varied twice", k));
      if (fixed.count(k) != 0)
        ps.fail(where, fmt::format("key '{}' is both in \"set\" and varied", k));
      spec.varied_keys.push_back(k);
    }
    axes.push_back(std::move(ax));
  }
  return axes;
}

// The axes combined as a grid: the first axis varies slowest.
std::vector<Assignment> grid_of(const Parser& ps,
                                const std::vector<std::vector<Assignment>>& axes) {
  double total = 1;
  for (const auto& ax : axes) total *= static_cast<double>(ax.size());
  if (total > static_cast<double>(kMaxPoints))
    ps.fail("vary", fmt::format("{} points (limit 100000)", total));
  std::vector<Assignment> grid{Assignment{}};
  for (const auto& ax : axes) {
    std::vector<Assignment> next;
    for (const auto& g : grid) {
      for (const auto& a : ax) {
        Assignment c = g;
        c.insert(c.end(), a.begin(), a.end());
        next.push_back(std::move(c));
      }
    }
    grid = std::move(next);
  }
  return grid;
}

// The grid's points, each with its name.
void add_points(const Parser& ps, std::vector<Assignment> grid, SweepSpec& spec) {
  std::map<std::string, int> name_count;
  for (auto& g : grid) {
    Point p;
    p.params = std::move(g);
    p.name = point_name(p.params, spec.varied_keys);
    ++name_count[p.name];
    spec.points.push_back(std::move(p));
  }
  // Two points whose names sanitise alike are told apart by a hash of their values.
  for (auto& p : spec.points) {
    if (name_count[p.name] > 1) p.name += "_" + hash_hex(json(p.params).dump());
  }
  std::set<std::string> names;
  for (const auto& p : spec.points) {
    if (!names.insert(p.name).second)
      ps.fail("vary", fmt::format("two points have the same values ({})", p.name));
  }
}

// "seeds": a list of distinct integers or {"count", "first"}; default: seed 1.
void parse_seeds(const Parser& ps, const json& doc, SweepSpec& spec) {
  if (!doc.contains("seeds")) {
    spec.seeds = {1};
  } else if (doc["seeds"].is_array()) {
    std::set<std::int64_t> uniq;
    for (const auto& s : doc["seeds"]) {
      if (!s.is_number_integer())
        ps.fail("seeds", "expected a list of integers or {\"count\": n, \"first\": s}");
      if (!uniq.insert(s.get<std::int64_t>()).second)
        ps.fail("seeds", fmt::format("seed {} listed twice", s.dump()));
      spec.seeds.push_back(s.get<std::int64_t>());
    }
    if (spec.seeds.empty()) ps.fail("seeds", "empty list");
  } else if (doc["seeds"].is_object()) {
    ps.only(doc["seeds"], "seeds", {"count", "first"});
    const auto& s = doc["seeds"];
    if (!s.contains("count") || !s["count"].is_number_integer() ||
        s["count"].get<std::int64_t>() < 1 || s["count"].get<std::int64_t>() > 1000) {
      ps.fail("seeds.count", "expected an integer in [1, 1000]");
    }
    if (s.contains("first") && !s["first"].is_number_integer())
      ps.fail("seeds.first", "expected an integer");
    const std::int64_t first = s.value("first", std::int64_t{1});
    for (std::int64_t i = 0; i < s["count"].get<std::int64_t>(); ++i)
      spec.seeds.push_back(first + i);
  } else {
    ps.fail("seeds", "expected a list of integers or {\"count\": n, \"first\": s}");
  }
}

// "metrics": a list of summary.json paths or an object of name: path. Returns the names.
std::set<std::string> parse_metrics(const Parser& ps, const json& doc, SweepSpec& spec) {
  if (!doc.contains("metrics")) ps.fail("top level", "missing field 'metrics'");
  std::set<std::string> metric_names;
  auto add_metric = [&](const std::string& name, const json& path, const std::string& where) {
    if (!path.is_string()) ps.fail(where, "expected a summary.json path (a string)");
    if (name.empty()) ps.fail(where, "empty metric name");
    if (!metric_names.insert(name).second)
      ps.fail(where, fmt::format("metric '{}' listed twice", name));
    try {
      spec.metrics.push_back(Metric{name, MetricPath::parse(path.get<std::string>())});
    } catch (const std::invalid_argument& e) {
      ps.fail(where, e.what());
    }
  };
  if (doc["metrics"].is_array()) {
    for (std::size_t i = 0; i < doc["metrics"].size(); ++i) {
      const auto& m = doc["metrics"][i];
      add_metric(m.is_string() ? m.get<std::string>() : "", m, fmt::format("metrics[{}]", i));
    }
  } else if (doc["metrics"].is_object()) {
    for (auto it = doc["metrics"].begin(); it != doc["metrics"].end(); ++it) {
      add_metric(it.key(), it.value(), "metrics." + it.key());
    }
  } else {
    ps.fail("metrics", "expected a list of paths or an object of name: path");
  }
  if (spec.metrics.empty()) ps.fail("metrics", "no metric to collect");
  return metric_names;
}

// "pareto": two of the metrics and which way each is better.
void parse_pareto(const Parser& ps, const json& doc, const std::set<std::string>& metric_names,
                  SweepSpec& spec) {
  if (!doc.contains("pareto")) return;
  const auto& p = doc["pareto"];
  ps.only(p, "pareto", {"x", "y", "x_goal", "y_goal"});
  spec.has_pareto = true;
  spec.pareto.x = ps.string_field(p, "x", "pareto");
  spec.pareto.y = ps.string_field(p, "y", "pareto");
  for (const auto* m : {&spec.pareto.x, &spec.pareto.y}) {
    if (metric_names.count(*m) == 0)
      ps.fail("pareto", fmt::format("'{}' is not one of the metrics", *m));
  }
  auto goal = [&](const char* f, bool def) {
    if (!p.contains(f)) return def;
    const auto g = ps.string_field(p, f, "pareto");
    if (g != "min" && g != "max")
      ps.fail(std::string("pareto.") + f, "expected \"min\" or \"max\"");
    return g == "max";
  };
  spec.pareto.x_maximize = goal("x_goal", false);
  spec.pareto.y_maximize = goal("y_goal", true);
}

// "slurm": the Slurm backend's defaults.
void parse_slurm(const Parser& ps, const json& doc, SweepSpec& spec) {
  if (!doc.contains("slurm")) return;
  const auto& s = doc["slurm"];
  ps.only(s, "slurm", {"partition", "time", "cpus_per_task", "mem", "max_parallel", "chunk"});
  if (s.contains("partition")) spec.slurm.partition = ps.string_field(s, "partition", "slurm");
  if (s.contains("time")) spec.slurm.time = ps.string_field(s, "time", "slurm");
  if (s.contains("mem")) spec.slurm.mem = ps.string_field(s, "mem", "slurm");
  for (auto [f, target] : {std::pair{"cpus_per_task", &spec.slurm.cpus_per_task},
                           std::pair{"max_parallel", &spec.slurm.max_parallel},
                           std::pair{"chunk", &spec.slurm.chunk}}) {
    if (!s.contains(f)) continue;
    if (!s[f].is_number_integer() || s[f].get<int>() < 0)
      ps.fail(std::string("slurm.") + f, "expected an integer >= 0");
    *target = s[f].get<int>();
  }
  if (spec.slurm.chunk < 1) ps.fail("slurm.chunk", "expected an integer >= 1");
}

}  // namespace

SweepSpec parse_spec(const json& doc, const std::string& origin, const std::string& dir) {
  Parser ps(origin);
  SweepSpec spec;
  spec.source = origin;
  ps.only(doc, "top level", {"base", "set", "vary", "seeds", "metrics", "pareto", "slurm"});
  parse_base(ps, doc, dir, spec);
  const auto fixed = parse_set(ps, doc, spec);
  add_points(ps, grid_of(ps, parse_axes(ps, doc, fixed, spec)), spec);
  parse_seeds(ps, doc, spec);
  const auto metric_names = parse_metrics(ps, doc, spec);
  parse_pareto(ps, doc, metric_names, spec);
  parse_slurm(ps, doc, spec);
  return spec;
}

SweepSpec load_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw cfg::ConfigError(fmt::format("{}: cannot open sweep specification", path));
  json doc;
  try {
    doc = json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    throw cfg::ConfigError(fmt::format("{}: malformed JSON: {}", path, e.what()));
  }
  return parse_spec(doc, path, std::filesystem::path(path).parent_path().string());
}

std::vector<std::string> run_overrides(const SweepSpec& spec, const Point& p, std::int64_t seed) {
  std::vector<std::string> o = spec.set;
  for (const auto& [k, v] : p.params) o.push_back(k + "=" + v.dump());
  o.push_back(fmt::format("sim.seed={}", seed));
  return o;
}

std::vector<std::vector<json>> validate_points(const SweepSpec& spec) {
  std::vector<std::vector<json>> out;
  for (const auto& p : spec.points) {
    out.emplace_back();
    for (const auto seed : spec.seeds) {
      try {
        out.back().push_back(load_config(spec.base, run_overrides(spec, p, seed)).resolved);
      } catch (const cfg::ConfigError& e) {
        throw cfg::ConfigError(
            fmt::format("{}: point {} (seed {}): {}", spec.source, p.name, seed, e.what()));
      }
    }
  }
  return out;
}

}  // namespace memplast::explore
