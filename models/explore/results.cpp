#include "explore/results.hpp"

#include <cmath>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <boost/math/distributions/students_t.hpp>

#include "common/output.hpp"

namespace memplast::explore {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path run_dir(const fs::path& out, const Point& p, std::int64_t seed) {
  return out / "points" / p.name / fmt::format("seed-{}", seed);
}

bool run_complete(const fs::path& dir, json* summary) {
  std::ifstream in(dir / "summary.json");
  if (!in) return false;
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception&) {
    return false;
  }
  if (!doc.is_object()) return false;
  if (doc.contains("status") && doc.at("status") != "complete") return false;
  if (summary != nullptr) *summary = std::move(doc);
  return true;
}

void write_exit_record(const fs::path& dir, const ExitRecord& r) {
  const json j{{"exit_status", r.exit_status},
               {"error", r.error},
               {"wall_s", r.wall_s},
               {"backend", r.backend},
               {"job", r.job}};
  write_file_atomic(dir / "sweep_exit.json", j.dump(2) + "\n");
}

std::optional<ExitRecord> read_exit_record(const fs::path& dir) {
  std::ifstream in(dir / "sweep_exit.json");
  if (!in) return std::nullopt;
  try {
    const auto j = json::parse(in);
    ExitRecord r;
    r.exit_status = j.at("exit_status").get<int>();
    r.error = j.value("error", "");
    r.wall_s = j.value("wall_s", 0.0);
    r.backend = j.value("backend", "");
    r.job = j.value("job", "");
    return r;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string tail_lines(const fs::path& file, int lines) {
  std::ifstream in(file);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += (out.empty() ? "" : "\n") + l;
  return out;
}

double t_quantile_975(std::size_t df) {
  if (df == 0) return std::nan("");
  const boost::math::students_t dist(static_cast<double>(df));
  return boost::math::quantile(dist, 0.975);
}

Stats compute_stats(const std::vector<double>& v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(s.n - 1));
    const double half = t_quantile_975(s.n - 1) * s.std / std::sqrt(static_cast<double>(s.n));
    s.ci_lo = s.mean - half;
    s.ci_hi = s.mean + half;
  } else {
    s.ci_lo = s.ci_hi = s.mean;
  }
  return s;
}

std::vector<bool> pareto_front(const std::vector<std::optional<std::pair<double, double>>>& xy,
                               bool x_maximize, bool y_maximize) {
  const std::size_t n = xy.size();
  std::vector<bool> front(n, false);
  auto better_eq = [](double a, double b, bool maximize) { return maximize ? a >= b : a <= b; };
  auto better = [](double a, double b, bool maximize) { return maximize ? a > b : a < b; };
  for (std::size_t i = 0; i < n; ++i) {
    if (!xy[i]) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < n && !dominated; ++j) {
      if (j == i || !xy[j]) continue;
      const auto [xi, yi] = *xy[i];
      const auto [xj, yj] = *xy[j];
      dominated = better_eq(xj, xi, x_maximize) && better_eq(yj, yi, y_maximize) &&
                  (better(xj, xi, x_maximize) || better(yj, yi, y_maximize));
    }
    front[i] = !dominated;
  }
  return front;
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_value(const json& v) {
  if (v.is_string()) return csv_field(v.get<std::string>());
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  return csv_field(v.dump());
}

std::string num(double d) { return std::isfinite(d) ? fmt::format("{:.10g}", d) : ""; }

// One point's runs, seed by seed: each metric's values over the complete runs, and per
// seed (null where the run is not complete or lacks the metric).
struct PointRuns {
  std::vector<std::vector<double>> values;
  std::vector<json> per_seed;
  std::size_t complete{0};
  std::size_t failed{0};
  std::size_t missing{0};
};

// Reads the point's runs; a failed run goes to `failures`, a metric a complete run lacks
// to `metric_errors`.
PointRuns read_point_runs(const SweepSpec& spec, const fs::path& out, const Point& p,
                          json& failures, std::set<std::string>& metric_errors) {
  PointRuns r;
  r.values.resize(spec.metrics.size());
  r.per_seed.assign(spec.metrics.size(), json::array());
  for (const auto seed : spec.seeds) {
    const auto dir = run_dir(out, p, seed);
    json summary;
    if (run_complete(dir, &summary)) {
      ++r.complete;
      for (std::size_t m = 0; m < spec.metrics.size(); ++m) {
        std::string why;
        const auto v = spec.metrics[m].path.resolve(summary, &why);
        if (v) {
          r.values[m].push_back(*v);
          r.per_seed[m].push_back(*v);
        } else {
          r.per_seed[m].push_back(nullptr);
          metric_errors.insert(fmt::format("metric '{}' {} (in {})", spec.metrics[m].name, why,
                                           (dir / "summary.json").string()));
        }
      }
      continue;
    }
    for (auto& ps : r.per_seed) ps.push_back(nullptr);
    const auto rec = read_exit_record(dir);
    if (rec && rec->exit_status != 0) {
      ++r.failed;
      failures.push_back({{"point", p.name},
                          {"seed", seed},
                          {"dir", fs::relative(dir, out).string()},
                          {"exit_status", rec->exit_status},
                          {"backend", rec->backend},
                          {"job", rec->job},
                          {"error", rec->error}});
    } else {
      ++r.missing;
    }
  }
  return r;
}

// The point's entry in results.json, without "pareto"; `stats` receives each metric's
// statistics.
json point_json(const SweepSpec& spec, const Point& p, const PointRuns& r,
                std::vector<Stats>& stats) {
  json jp;
  jp["name"] = p.name;
  jp["dir"] = (fs::path("points") / p.name).string();
  jp["params"] = json::object();
  for (const auto& [k, v] : p.params) jp["params"][k] = v;
  jp["runs"] = {{"complete", r.complete}, {"failed", r.failed}, {"missing", r.missing}};
  jp["metrics"] = json::object();
  for (std::size_t m = 0; m < spec.metrics.size(); ++m) {
    const auto s = compute_stats(r.values[m]);
    stats.push_back(s);
    json jm{{"n", s.n}, {"values", r.per_seed[m]}};
    if (s.n > 0) {
      jm["mean"] = s.mean;
      jm["std"] = s.std;
      jm["ci95_lo"] = s.ci_lo;
      jm["ci95_hi"] = s.ci_hi;
    }
    jp["metrics"][spec.metrics[m].name] = jm;
  }
  return jp;
}

// The point's (x, y) for the Pareto front: the means of the two Pareto metrics, if both
// have complete runs.
std::optional<std::pair<double, double>> pareto_point(const SweepSpec& spec,
                                                      const std::vector<Stats>& stats) {
  std::size_t ix = 0;
  std::size_t iy = 0;
  for (std::size_t m = 0; m < spec.metrics.size(); ++m) {
    if (spec.metrics[m].name == spec.pareto.x) ix = m;
    if (spec.metrics[m].name == spec.pareto.y) iy = m;
  }
  if (stats[ix].n > 0 && stats[iy].n > 0) return std::make_pair(stats[ix].mean, stats[iy].mean);
  return std::nullopt;
}

json results_json(const SweepSpec& spec, const Aggregate& agg, const json& points,
                  const json& failures) {
  json metrics = json::array();
  for (const auto& m : spec.metrics) metrics.push_back({{"name", m.name}, {"path", m.path.text}});
  json j = {
      {"spec", spec.source},
      {"base", spec.base.empty() ? "(defaults)" : spec.base},
      {"set", spec.set},
      {"varied_keys", spec.varied_keys},
      {"seeds", spec.seeds},
      {"metrics", metrics},
      {"runs", {{"complete", agg.complete}, {"failed", agg.failed}, {"missing", agg.missing}}},
      {"statistics",
       "mean, sample standard deviation and 95 % confidence interval "
       "(Student's t, n-1 degrees of freedom) over the complete seeds"},
      {"points", points},
      {"failures", failures}};
  if (spec.has_pareto) {
    j["pareto"] = {{"x", spec.pareto.x},
                   {"x_goal", spec.pareto.x_maximize ? "max" : "min"},
                   {"y", spec.pareto.y},
                   {"y_goal", spec.pareto.y_maximize ? "max" : "min"}};
  }
  return j;
}

// results.csv: a row a point, from its results.json entry.
std::string results_csv(const SweepSpec& spec, const json& points) {
  std::ostringstream csv;
  csv << "point";
  for (const auto& k : spec.varied_keys) csv << "," << csv_field(k);
  csv << ",runs_complete,runs_failed,runs_missing";
  for (const auto& m : spec.metrics) {
    const auto n = csv_field(m.name);
    csv << "," << n << "_n," << n << "_mean," << n << "_std," << n << "_ci95_lo," << n
        << "_ci95_hi";
  }
  if (spec.has_pareto) csv << ",pareto";
  csv << "\n";
  for (std::size_t i = 0; i < spec.points.size(); ++i) {
    const auto& p = spec.points[i];
    const auto& jp = points[i];
    csv << csv_field(p.name);
    for (const auto& [k, v] : p.params) csv << "," << csv_value(v);
    csv << "," << jp["runs"]["complete"].get<std::size_t>() << ","
        << jp["runs"]["failed"].get<std::size_t>() << ","
        << jp["runs"]["missing"].get<std::size_t>();
    for (const auto& m : spec.metrics) {
      const auto& jm = jp["metrics"][m.name];
      csv << "," << jm["n"].get<std::size_t>();
      if (jm.contains("mean")) {
        csv << "," << num(jm["mean"].get<double>()) << "," << num(jm["std"].get<double>()) << ","
            << num(jm["ci95_lo"].get<double>()) << "," << num(jm["ci95_hi"].get<double>());
      } else {
        csv << ",,,,";
      }
    }
    if (spec.has_pareto) csv << "," << (jp["pareto"].get<bool>() ? 1 : 0);
    csv << "\n";
  }
  return csv.str();
}

}  // namespace

Aggregate aggregate(const SweepSpec& spec, const fs::path& out) {
  Aggregate agg;
  json points = json::array();
  json failures = json::array();
  std::vector<std::optional<std::pair<double, double>>> pareto_xy;
  std::set<std::string> metric_errors;
  for (const auto& p : spec.points) {
    const auto runs = read_point_runs(spec, out, p, failures, metric_errors);
    agg.complete += runs.complete;
    agg.failed += runs.failed;
    agg.missing += runs.missing;
    std::vector<Stats> stats;
    points.push_back(point_json(spec, p, runs, stats));
    if (spec.has_pareto) pareto_xy.push_back(pareto_point(spec, stats));
  }
  if (spec.has_pareto) {
    const auto front = pareto_front(pareto_xy, spec.pareto.x_maximize, spec.pareto.y_maximize);
    for (std::size_t i = 0; i < points.size(); ++i)
      points[i]["pareto"] = static_cast<bool>(front[i]);
  }
  agg.metric_errors.assign(metric_errors.begin(), metric_errors.end());
  agg.json = results_json(spec, agg, points, failures);
  agg.csv = results_csv(spec, points);
  return agg;
}

}  // namespace memplast::explore
