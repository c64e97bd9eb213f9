#include "report/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/output.hpp"
#include "report/svg.hpp"

namespace memplast::report {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// ------------------------------------------------------------------ inputs

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw ReportError(fmt::format("{}: cannot open", p.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

json read_json(const fs::path& p) {
  try {
    return json::parse(read_text(p));
  } catch (const json::exception& e) {
    throw ReportError(fmt::format("{}: not valid JSON: {}", p.string(), e.what()));
  }
}

double number(const fs::path& p, const std::string& s);

struct Csv {
  fs::path path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  [[nodiscard]] std::size_t col(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    throw ReportError(fmt::format("{}: no column '{}'", path.string(), name));
  }
  // A field as a number; an error names the file.
  [[nodiscard]] double number(const std::string& field) const {
    return report::number(path, field);
  }
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      f.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  f.push_back(cur);
  return f;
}

Csv read_csv(const fs::path& p) {
  std::istringstream in(read_text(p));
  Csv c;
  c.path = p;
  std::string line;
  if (!std::getline(in, line)) throw ReportError(fmt::format("{}: empty (no header)", p.string()));
  c.header = split(line);
  std::size_t n = 1;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto f = split(line);
    if (f.size() != c.header.size()) {
      throw ReportError(fmt::format("{}:{}: {} fields, the header has {}", p.string(), n, f.size(),
                                    c.header.size()));
    }
    c.rows.push_back(std::move(f));
  }
  return c;
}

double number(const fs::path& p, const std::string& s) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw ReportError(fmt::format("{}: '{}' is not a number", p.string(), s));
  }
}

double jnum(const json& j, const char* key, double fallback = std::nan("")) {
  if (j.is_object() && j.contains(key) && j[key].is_number()) return j[key].get<double>();
  return fallback;
}

// ------------------------------------------------------------------ page pieces

std::string note(const std::string& text) { return "<p class=\"note\">" + escape(text) + "</p>\n"; }

struct Section {
  std::string id;
  std::string heading;
  std::string html;  // svg or note, plus any caption
};

std::string fmt_si(double v, const char* unit) {
  if (!std::isfinite(v)) return "n/a";
  const double a = std::abs(v);
  struct P {
    double f;
    const char* p;
  };
  static const P kPrefixes[] = {{1e-15, "f"}, {1e-12, "p"}, {1e-9, "n"}, {1e-6, "&micro;"},
                                {1e-3, "m"},  {1, ""},      {1e3, "k"},  {1e6, "M"}};
  const P* best = &kPrefixes[5];
  if (a > 0) {
    for (const auto& p : kPrefixes)
      if (a >= p.f) best = &p;
  }
  return fmt::format("{:.4g} {}{}", v / best->f, best->p, unit);
}

// The tile modules ("layer0_t3") summed per layer ("layer0 tiles").
std::string component_group(const std::string& c) {
  if (c.rfind("layer", 0) == 0) {
    const auto u = c.find("_t");
    if (u != std::string::npos) return c.substr(0, u) + " tiles";
  }
  return c;
}

// A plot whose input is missing or empty: the note in its place, and in info.
Section noted(Section s, PlotInfo& info, std::string why) {
  info.note = std::move(why);
  s.html = note(info.note);
  return s;
}

// A plot's CSV input `p` in the run folder; nothing when the file is missing: `s` and
// `info` then hold the note "<file> is missing from the run folder<since>".
std::optional<Csv> plot_csv(const fs::path& p, Section& s, PlotInfo& info, const char* since = "") {
  if (!fs::exists(p)) {
    s = noted(std::move(s), info,
              fmt::format("{} is missing from the run folder{}", p.filename().string(), since));
    return std::nullopt;
  }
  return read_csv(p);
}

// ------------------------------------------------------------------ plots

Section accuracy_plot(const json& summary, PlotInfo& info) {
  Section s{"plot-accuracy", "Accuracy per epoch", ""};
  const json* per_epoch = nullptr;
  if (summary.contains("accuracy") && summary["accuracy"].is_object() &&
      summary["accuracy"].contains("per_epoch") && summary["accuracy"]["per_epoch"].is_array())
    per_epoch = &summary["accuracy"]["per_epoch"];
  if (per_epoch == nullptr || per_epoch->empty()) {
    return noted(std::move(s), info,
                 "summary.json has no accuracy.per_epoch records (no epoch finished)");
  }
  LineChart c;
  c.id = s.id;
  c.title = "Test accuracy after each epoch, every task seen";
  c.x.label = "epoch (counted over the whole run)";
  c.x.integer = true;
  c.y.label = "test accuracy (%)";
  c.y.min = 0;
  c.y.max = 100;
  std::map<std::string, std::size_t> index;
  std::string prev_task;
  double e = 0;
  for (const auto& r : *per_epoch) {
    e += 1;
    const std::string task = r.value("task", std::string("?"));
    if (task != prev_task) {
      if (!prev_task.empty()) c.markers.push_back({e - 0.5, "start of " + task});
      prev_task = task;
    }
    if (!r.contains("accuracy") || !r["accuracy"].is_object()) continue;
    for (auto it = r["accuracy"].begin(); it != r["accuracy"].end(); ++it) {
      if (!it.value().is_number()) continue;
      auto [pos, added] = index.emplace(it.key(), c.series.size());
      if (added) c.series.push_back(Series{it.key(), {}, {}});
      c.series[pos->second].x.push_back(e);
      c.series[pos->second].y.push_back(100.0 * it.value().get<double>());
    }
  }
  c.x.min = 0.5;
  c.x.max = e + 0.5;
  s.html = svg(c);
  for (const auto& se : c.series) info.marks += se.x.size();
  return s;
}

Section energy_plot(const fs::path& dir, PlotInfo& info) {
  Section s{"plot-energy", "Energy by component and phase", ""};
  const auto csv = plot_csv(dir / "energy.csv", s, info);
  if (!csv) return s;
  const auto ic = csv->col("component");
  const auto ip = csv->col("phase");
  const auto ij = csv->col("joules");
  std::vector<std::string> groups;
  std::vector<std::string> phases;
  std::map<std::pair<std::string, std::string>, double> sum;
  for (const auto& r : csv->rows) {
    const auto g = component_group(r[ic]);
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    if (std::find(phases.begin(), phases.end(), r[ip]) == phases.end()) phases.push_back(r[ip]);
    sum[{g, r[ip]}] += csv->number(r[ij]);
  }
  BarChart c;
  c.id = s.id;
  c.title = "Energy by component and phase (whole run)";
  c.x_label = "component (tiles summed per layer)";
  c.y.label = "energy (J, log scale)";
  c.y.log = true;
  c.categories = groups;
  c.series = phases;
  for (const auto& ph : phases) {
    std::vector<double> v;
    for (const auto& g : groups) {
      const auto it = sum.find({g, ph});
      const double j = it == sum.end() ? 0.0 : it->second;
      v.push_back(j);
      if (j > 0) ++info.marks;
    }
    c.values.push_back(std::move(v));
  }
  s.html = svg(c);
  return s;
}

// Host phases of the firmware (trace.json, track "host"): the traced batches' duration
// per phase, divided by the samples of those batches.
LatencyTable latency_from_trace(const fs::path& p, double batch_size) {
  LatencyTable t;
  std::ifstream in(p);
  if (!in) throw ReportError(fmt::format("{}: cannot open", p.string()));
  std::string line;
  int host_pid = -1;
  std::vector<std::pair<std::string, double>> stack;  // host track: (name, ts_us)
  std::map<std::string, double> total_us;
  std::vector<std::string> order;
  double batches = 0;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    const bool meta = line.find("\"process_name\"") != std::string::npos;
    const bool be = line.find("\"ph\":\"B\"") != std::string::npos ||
                    line.find("\"ph\":\"E\"") != std::string::npos;
    if (!meta && !be) continue;
    while (!line.empty() && (line.back() == ',' || line.back() == '\r')) line.pop_back();
    json e;
    try {
      e = json::parse(line);
    } catch (const json::exception& ex) {
      throw ReportError(fmt::format("{}:{}: not a trace event: {}", p.string(), n, ex.what()));
    }
    if (meta) {
      if (e.contains("args") && e["args"].value("name", std::string()) == "host")
        host_pid = e.value("pid", -1);
      continue;
    }
    if (e.value("pid", -2) != host_pid || e.value("tid", -2) != 1) continue;
    const double ts = jnum(e, "ts", 0);
    if (e.value("ph", std::string()) == "B") {
      stack.emplace_back(e.value("name", std::string()), ts);
      continue;
    }
    if (stack.empty()) continue;
    const auto [name, t0] = stack.back();
    stack.pop_back();
    if (name == "batch") batches += 1;
    if (name == "task" || name == "epoch" || name == "batch" || name == "init") continue;
    if (total_us.find(name) == total_us.end()) order.push_back(name);
    total_us[name] += ts - t0;
  }
  if (batches <= 0 || batch_size <= 0) return t;
  for (const auto& name : order) {
    if (name == "evaluation") continue;  // not per training sample
    t.rows.push_back({name, total_us[name] * 1e-6 / (batches * batch_size)});
  }
  t.source = fmt::format(
      "trace.json: host-track firmware phases of the {} traced batch(es) of {} samples "
      "(the trace window, not the whole run)",
      batches, batch_size);
  return t;
}

// summary.json's per-sample cost table, when the run wrote one: an object of phases,
// each with a latency in seconds ("latency_s").
LatencyTable latency_from_summary(const json& summary) {
  LatencyTable t;
  for (const char* key : {"per_sample", "cost_per_sample"}) {
    if (!summary.contains(key) || !summary[key].is_object()) continue;
    const json& tab = summary[key];
    const json& training =
        tab.contains("training") && tab["training"].is_object() ? tab["training"] : tab;
    if (training.contains("latency_s") && training["latency_s"].is_object()) {
      // The ledger's table (summary.json per_sample.training.latency_s: phase -> seconds
      // per trained sample over the whole run, and their "total").
      for (auto it = training["latency_s"].begin(); it != training["latency_s"].end(); ++it) {
        if (it.key() == "total" || !it.value().is_number()) continue;
        const double v = it.value().get<double>();
        if (std::isfinite(v) && v > 0) t.rows.push_back({it.key(), v});
      }
    } else {
      for (auto it = training.begin(); it != training.end(); ++it) {
        const double v = jnum(it.value(), "latency_s");
        if (std::isfinite(v)) t.rows.push_back({it.key(), v});
      }
    }
    if (!t.rows.empty()) {
      t.source = std::string("summary.json: ") + key;
      return t;
    }
  }
  return t;
}

Section latency_plot(const fs::path& dir, const json& summary, PlotInfo& info) {
  Section s{"plot-latency", "Latency per sample by phase", ""};
  LatencyTable t = latency_from_summary(summary);
  if (t.rows.empty() && fs::exists(dir / "trace.json")) {
    double batch = 0;
    if (summary.contains("config") && summary["config"].contains("train"))
      batch = jnum(summary["config"]["train"], "batch", 0);
    t = latency_from_trace(dir / "trace.json", batch);
  }
  if (t.rows.empty()) {
    return noted(
        std::move(s), info,
        "no per-sample latency: summary.json has no per-sample cost table and the run has no "
        "trace.json with traced training batches (hardware mode with trace.enable)");
  }
  BarChart c;
  c.id = s.id;
  c.title = "Simulated latency per training sample, by firmware phase";
  c.x_label = "phase";
  c.y.label = "latency per sample (s)";
  c.series = {"latency"};
  c.values.emplace_back();
  for (const auto& r : t.rows) {
    c.categories.push_back(r.phase);
    c.values[0].push_back(r.seconds_per_sample);
    if (r.seconds_per_sample > 0) ++info.marks;
  }
  info.note = t.source;
  std::string tab = "<table class=\"latency\"><tr><th>phase</th><th>latency per sample</th></tr>\n";
  for (const auto& r : t.rows)
    tab += "<tr><td>" + escape(r.phase) + "</td><td>" + fmt_si(r.seconds_per_sample, "s") +
           "</td></tr>\n";
  s.html =
      svg(c) + "<p class=\"caption\">Source: " + escape(t.source) + ".</p>\n" + tab + "</table>\n";
  return s;
}

// power.csv: simulated_time_s then one column of cumulative joules per component; the
// power of each interval is its energy over its duration.
Section power_plot(const fs::path& dir, PlotInfo& info) {
  Section s{"plot-power", "Power over time", ""};
  const auto input = plot_csv(dir / "power.csv", s, info, " (written by runs since the report)");
  if (!input) return s;
  const Csv& csv = *input;
  if (csv.header.size() < 2 || csv.header[0] != "simulated_time_s")
    throw ReportError(
        fmt::format("{}: the first column must be simulated_time_s", csv.path.string()));
  LineChart c;
  c.id = s.id;
  c.title = "Average power per interval between samples";
  c.x.label = "simulated time (s)";
  c.y.label = "power (W, log scale)";
  c.y.log = true;
  const std::size_t nrow = csv.rows.size();
  // At most ~400 points per series: longer runs are merged into equal-count intervals.
  const std::size_t stride = std::max<std::size_t>(1, (nrow + 399) / 400);
  for (std::size_t k = 1; k < csv.header.size(); ++k) {
    Series se{csv.header[k], {}, {}};
    double t_prev = 0;
    double e_prev = 0;
    for (std::size_t i = stride - 1; i < nrow; i += stride) {
      const double t = csv.number(csv.rows[i][0]);
      const double e = csv.number(csv.rows[i][k]);
      if (t > t_prev) {
        se.x.push_back(t);
        se.y.push_back((e - e_prev) / (t - t_prev));
      }
      t_prev = t;
      e_prev = e;
    }
    c.series.push_back(std::move(se));
  }
  c.points = true;
  s.html = svg(c);
  for (const auto& se : c.series)
    for (double y : se.y)
      if (y > 0) ++info.marks;
  return s;
}

// A bar at `v` on a log axis (v - 0.5 .. v + 0.5, or v / 2 .. v + 0.5 below 1) of
// height `devices`, then an undrawn gap; close_bins() drops the gap after the last.
void add_log_bin(Hist& h, double v, double devices) {
  h.edges.push_back(v - 0.5 > 0 ? v - 0.5 : v * 0.5);
  h.edges.push_back(v + 0.5);
  h.counts.push_back(devices);
  h.counts.push_back(0);  // gap between bins (not drawn)
}

void close_bins(Hist& h) {
  if (!h.counts.empty()) h.counts.pop_back();
}

// Pulses per device (histograms.json): the quantity the endurance budget counts. Empty
// without histograms.json or its pulses_per_device.
Hist pulses_hist(const fs::path& dir, const json* hj, PlotInfo& info) {
  Hist pulses{"devices by pulses", {}, {}};
  if (hj == nullptr || !hj->contains("pulses_per_device")) return pulses;
  const json& pp = (*hj)["pulses_per_device"];
  if (!pp.contains("values") || !pp.contains("devices") || !pp["values"].is_array() ||
      !pp["devices"].is_array() || pp["values"].size() != pp["devices"].size())
    throw ReportError(
        fmt::format("{}: pulses_per_device needs arrays 'values' and 'devices' of the same length",
                    (dir / "histograms.json").string()));
  for (std::size_t i = 0; i < pp["values"].size(); ++i) {
    const double v = pp["values"][i].get<double>();
    const double d = pp["devices"][i].get<double>();
    if (v <= 0) continue;
    add_log_bin(pulses, v, d);
    if (d > 0) ++info.marks;
  }
  close_bins(pulses);
  return pulses;
}

// The endurance budget (lognormal per cell: device.endurance_median, endurance_sigma_ln,
// in pulses) marked on `c`, and the caption that compares the most written device
// (`max_w` writes) and the most pulsed one with it.
std::string endurance_budget(const json& summary, double max_w, HistogramChart& c) {
  double median = 0;
  double sigma = 0;
  if (summary.contains("config") && summary["config"].contains("device")) {
    median = jnum(summary["config"]["device"], "endurance_median", 0);
    sigma = jnum(summary["config"]["device"], "endurance_sigma_ln", 0);
  }
  if (!(median > 0))
    return "summary.json's configuration has no device.endurance_median: no budget marked.";
  const double p1 = median * std::exp(-2.326 * sigma);
  c.markers.push_back({median, "median budget"});
  c.markers.push_back({p1, "1 % of devices"});
  std::string caption = fmt::format(
      "Endurance budget per device: lognormal, median {:.3g} pulses, sigma_ln {:.3g} (1 % of "
      "devices wear out by {:.3g} pulses). Most written device: {:.0f} writes = {:.2g} of the "
      "median budget (a write is one program-and-verify, of one or more pulses; the budget "
      "counts pulses).",
      median, sigma, p1, max_w, max_w / median);
  if (summary.contains("pulses_per_device")) {
    const double mp = jnum(summary["pulses_per_device"], "max", 0);
    caption += fmt::format(" Most pulsed device: {:.0f} pulses = {:.2g} of the median budget.", mp,
                           mp / median);
  }
  return caption;
}

Section writes_plot(const fs::path& dir, const json& summary, const json* hj, PlotInfo& info) {
  Section s{"plot-writes", "Writes per device against the endurance budget", ""};
  const auto csv = plot_csv(dir / "writes_per_device.csv", s, info);
  if (!csv) return s;
  const auto iw = csv->col("writes");
  const auto id = csv->col("devices");
  Hist h{"devices by writes", {}, {}};
  double max_w = 0;
  for (const auto& r : csv->rows) {
    const double w = csv->number(r[iw]);
    const double d = csv->number(r[id]);
    if (w <= 0) continue;  // a log axis: devices never written are counted in the caption
    add_log_bin(h, w, d);
    max_w = std::max(max_w, w);
    if (d > 0) ++info.marks;
  }
  close_bins(h);
  Hist pulses = pulses_hist(dir, hj, info);
  HistogramChart c;
  c.id = s.id;
  c.title = "Writes and pulses per device (log-log) and the endurance budget";
  c.x.label = "writes (program-and-verify) or SET/RESET pulses per device (log scale)";
  c.x.log = true;
  c.y.label = "devices (log scale)";
  c.y.log = true;
  c.hists.push_back(std::move(h));
  if (!pulses.counts.empty()) c.hists.push_back(std::move(pulses));
  const std::string caption = endurance_budget(summary, max_w, c);
  s.html = svg(c) + "<p class=\"caption\">" + escape(caption) + "</p>\n";
  return s;
}

// histograms.json group: {"unit": ..., "quantity": ..., "histograms": [{"name", "lo",
// "width", "counts"}]}.
Section histogram_plot(const fs::path& dir, const json* hj, const char* key, const char* id,
                       const char* heading, const char* title, PlotInfo& info) {
  Section s{id, heading, ""};
  if (hj == nullptr) {
    return noted(
        std::move(s), info,
        "histograms.json is missing from the run folder (written by runs since the report)");
  }
  if (!hj->contains(key) || !(*hj)[key].is_object() || !(*hj)[key].contains("histograms")) {
    return noted(std::move(s), info,
                 fmt::format("histograms.json has no '{}' histograms for this run", key));
  }
  const json& g = (*hj)[key];
  HistogramChart c;
  c.id = id;
  c.title = title;
  c.x.label = g.value("quantity", std::string(key)) + " (" + g.value("unit", std::string()) + ")";
  c.y.label = "count (log scale)";
  c.y.log = true;
  for (const auto& h : g["histograms"]) {
    Hist o{h.value("name", std::string("?")), {}, {}};
    const double lo = jnum(h, "lo", 0);
    const double w = jnum(h, "width", 1);
    if (!h.contains("counts") || !h["counts"].is_array())
      throw ReportError(fmt::format("{}: {}.histograms[].counts is not an array",
                                    (dir / "histograms.json").string(), key));
    double e = lo;
    o.edges.push_back(e);
    for (const auto& v : h["counts"]) {
      const double n = v.is_number() ? v.get<double>() : 0.0;
      o.counts.push_back(n);
      e += w;
      o.edges.push_back(e);
      if (n > 0) ++info.marks;
    }
    c.hists.push_back(std::move(o));
  }
  std::string caption;
  if (g.contains("caption") && g["caption"].is_string())
    caption = "<p class=\"caption\">" + escape(g["caption"].get<std::string>()) + "</p>\n";
  s.html = svg(c) + caption;
  return s;
}

// ------------------------------------------------------------------ headline, config

std::string headline(const json& sm) {
  std::string rows;
  auto row = [&](const std::string& k, const std::string& v) {
    rows += "<tr><th>" + escape(k) + "</th><td>" + v + "</td></tr>\n";
  };
  row("status", escape(sm.value("status", std::string("?"))));
  row("mode", escape(sm.value("mode", std::string("?"))));
  if (sm.contains("accuracy") && sm["accuracy"].contains("after_task")) {
    for (const auto& r : sm["accuracy"]["after_task"]) {
      std::string v;
      if (r.contains("accuracy") && r["accuracy"].is_object()) {
        for (auto it = r["accuracy"].begin(); it != r["accuracy"].end(); ++it) {
          if (!it.value().is_number()) continue;
          v += fmt::format("{}{} {:.2f} %", v.empty() ? "" : ", ", escape(it.key()),
                           100.0 * it.value().get<double>());
        }
      }
      row("accuracy after " + r.value("task", std::string("?")), v);
    }
  }
  const double samples = jnum(sm, "samples_trained");
  const double energy = sm.contains("energy_j") ? jnum(sm["energy_j"], "total") : std::nan("");
  const double sim = jnum(sm, "simulated_time_s");
  row("samples trained", fmt::format("{:.0f}", samples));
  row("simulated time", fmt_si(sim, "s"));
  row("energy (total)", fmt_si(energy, "J"));
  if (samples > 0) {
    row("energy per trained sample (whole run / samples)", fmt_si(energy / samples, "J"));
    row("simulated time per trained sample (whole run / samples)", fmt_si(sim / samples, "s"));
  }
  if (sim > 0) row("average power", fmt_si(energy / sim, "W"));
  row("wall time", fmt::format("{:.1f} s ({:.0f} samples/s)", jnum(sm, "wall_time_s"),
                               jnum(sm, "samples_per_second")));
  if (sm.contains("writes_per_device")) {
    const auto& w = sm["writes_per_device"];
    row("writes per device", fmt::format("max {:.0f}, p99 {:.0f}, mean {:.3f}", jnum(w, "max"),
                                         jnum(w, "p99"), jnum(w, "mean")));
  }
  if (sm.contains("pulses_per_device")) {
    const auto& w = sm["pulses_per_device"];
    row("pulses per device", fmt::format("max {:.0f}, p99 {:.0f}, mean {:.3f}", jnum(w, "max"),
                                         jnum(w, "p99"), jnum(w, "mean")));
  }
  row("level changes", fmt::format("{:.0f}", jnum(sm, "level_changes")));
  row("program-and-verify failures", fmt::format("{:.0f}", jnum(sm, "pv_failures")));
  if (sm.contains("memory_bits")) {
    row("memory (bits)",
        fmt::format("total {:.0f} (hidden {:.0f}, stored {:.0f}, task-specific "
                    "{:.0f}; optimizer {:.0f})",
                    jnum(sm["memory_bits"], "total"), jnum(sm["memory_bits"], "hidden"),
                    jnum(sm["memory_bits"], "stored"), jnum(sm["memory_bits"], "task_specific"),
                    jnum(sm["memory_bits"], "optimizer")));
  }
  return "<table class=\"headline\">\n" + rows + "</table>\n";
}

void flatten(const json& j, const std::string& prefix, std::string& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    return;
  }
  out += "<tr><th>" + escape(prefix) + "</th><td>" + escape(j.dump()) + "</td></tr>\n";
}

const char* kStyle = R"(body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px}th,td{padding:2px 10px;text-align:left;
border-bottom:1px solid #eee;vertical-align:top}th{font-weight:600}
.note{color:#a15c00;background:#fff6e5;padding:6px 10px;border-left:3px solid #a15c00}
.caption{font-size:13px;color:#444}svg.plot{background:#fff;border:1px solid #ddd}
#report-status{font-family:monospace;font-size:12px}
)";
// The plots' own styles (in the page, and inside each standalone .svg).
const char* kSvgStyle = R"(svg{font-family:sans-serif;background:#fff}
svg .title{font-size:14px;font-weight:600}svg .tick{font-size:11px;fill:#333}
svg .label{font-size:12px}svg .legend{font-size:12px}svg .grid{stroke:#e5e5e5}
svg .axis{stroke:#333}svg .ref{stroke:#555;stroke-dasharray:5 4}
svg .reflabel{font-size:11px;fill:#555}
)";

// Installed first: records any script error or console.error, then, after load, checks
// every plot (its bounding box is not empty, its marks are drawn with a non-empty box
// and their count matches data-marks) and writes the result into #report-status and
// #render-check (read by tb/regress/check_report.py from the dumped DOM).
const char* kScript = R"(
(function(){
  var errors=[];
  window.onerror=function(msg,src,line){errors.push(String(msg)+' @'+line);};
  window.addEventListener('error',function(e){if(e&&e.message)errors.push(e.message);});
  var ce=console.error;console.error=function(){errors.push(Array.prototype.join.call(arguments,' '));
    if(ce)ce.apply(console,arguments);};
  window.addEventListener('load',function(){
    var out=document.getElementById('render-check');var bad=0;var rows='';
    var plots=document.querySelectorAll('svg.plot');
    for(var i=0;i<plots.length;i++){
      var s=plots[i];var b=s.getBBox();var marks=s.querySelectorAll('.mark');var drawn=0;
      for(var k=0;k<marks.length;k++){var mb=marks[k].getBBox();if(mb.width>0||mb.height>0)drawn++;}
      var want=parseInt(s.getAttribute('data-marks'),10);
      var ok=b.width>0&&b.height>0&&drawn>0&&drawn===want;if(!ok)bad++;
      rows+='<tr data-plot="'+s.id+'" data-marks="'+marks.length+'" data-drawn="'+drawn+
        '" data-expected="'+want+'" data-bbox="'+Math.round(b.width)+'x'+Math.round(b.height)+
        '" data-ok="'+(ok?1:0)+'"><td>'+s.id+'</td><td>'+drawn+' of '+want+' marks drawn</td></tr>';
    }
    out.innerHTML=rows;
    var st=document.getElementById('report-status');
    st.setAttribute('data-plots',String(plots.length));
    st.setAttribute('data-bad',String(bad));
    st.setAttribute('data-errors',String(errors.length));
    st.setAttribute('data-status',(errors.length===0&&bad===0)?'ok':'error');
    st.textContent='render check: '+plots.length+' plots, '+bad+' not rendered, '+errors.length+
      ' script errors'+(errors.length?': '+errors.join(' | '):'');
  });
})();
)";

}  // namespace

std::string render_report(const fs::path& dir, std::vector<PlotInfo>* plots) {
  const auto sp = dir / "summary.json";
  if (!fs::exists(sp)) {
    throw ReportError(
        fmt::format("{}: missing (not a finished memplast train run folder?)", sp.string()));
  }
  const json sm = read_json(sp);
  if (!sm.is_object() || !sm.contains("status") || !sm.contains("accuracy")) {
    throw ReportError(fmt::format(
        "{}: not a memplast train summary (no \"status\" or \"accuracy\" key)", sp.string()));
  }
  json hist;
  const json* hj = nullptr;
  if (fs::exists(dir / "histograms.json")) {
    hist = read_json(dir / "histograms.json");
    hj = &hist;
  }
  std::vector<PlotInfo> info(7);
  std::vector<Section> sections;
  sections.push_back(accuracy_plot(sm, info[0]));
  sections.push_back(energy_plot(dir, info[1]));
  sections.push_back(latency_plot(dir, sm, info[2]));
  sections.push_back(power_plot(dir, info[3]));
  sections.push_back(
      histogram_plot(dir, hj, "conductance", "plot-conductance", "Conductance histograms per level",
                     "Device conductance at the end of the run, by weight level", info[4]));
  sections.push_back(writes_plot(dir, sm, hj, info[5]));
  sections.push_back(histogram_plot(dir, hj, "adc_input", "plot-adc",
                                    "ADC input histograms per layer",
                                    "ADC input (signed code before clipping), per layer", info[6]));
  for (std::size_t i = 0; i < sections.size(); ++i) {
    info[i].id = sections[i].id;
    if (info[i].marks > 0) {
      const auto a = sections[i].html.find("<svg");
      const auto b = sections[i].html.find("</svg>");
      if (a != std::string::npos && b != std::string::npos)
        info[i].svg = sections[i].html.substr(a, b + 6 - a) + "\n";
    }
  }

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>memplast report: " + escape(dir.filename().string()) + "</title>\n";
  html +=
      std::string("<script>") + kScript + "</script>\n<style>" + kStyle + kSvgStyle + "</style>\n";
  html += "</head>\n<body>\n";
  html += "<h1>memplast run report: " + escape(fs::absolute(dir).lexically_normal().string()) +
          "</h1>\n";
  html += fmt::format("<p>memplast {} &middot; configuration {} &middot; seed {}</p>\n",
                      escape(sm.value("memplast_version", std::string("?"))),
                      escape(sm.value("config_source", std::string("(built-in defaults)"))),
                      sm.contains("seed") ? sm["seed"].dump() : "?");
  html +=
      "<div id=\"report-status\" data-status=\"pending\">render check: not run (scripts "
      "disabled?)</div>\n<table id=\"render-check\"></table>\n";
  html += "<h2 id=\"headline\">Headline numbers</h2>\n" + headline(sm);
  html += "<p>Plots:";
  for (const auto& s : sections)
    html += " <a href=\"#" + s.id + "-section\">" + s.heading + "</a> &middot;";
  html += " <a href=\"#configuration\">configuration</a></p>\n";
  for (const auto& s : sections) {
    html += "<section id=\"" + s.id + "-section\">\n<h2>" + escape(s.heading) + "</h2>\n" + s.html +
            "</section>\n";
  }
  html += "<h2 id=\"configuration\">Configuration (resolved)</h2>\n<table class=\"config\">\n";
  std::string cfg;
  if (sm.contains("config")) flatten(sm["config"], "", cfg);
  html += cfg + "</table>\n</body>\n</html>\n";
  if (plots != nullptr) *plots = std::move(info);
  return html;
}

ReportInfo write_report(const fs::path& dir, const fs::path& svg_dir) {
  ReportInfo r;
  const std::string html = render_report(dir, &r.plots);
  r.path = dir / "report.html";
  write_file_atomic(r.path, html);
  if (!svg_dir.empty()) {
    std::error_code ec;
    fs::create_directories(svg_dir, ec);
    if (ec)
      throw ReportError(
          fmt::format("{}: cannot create folder: {}", svg_dir.string(), ec.message()));
    for (const auto& p : r.plots) {
      if (p.svg.empty()) continue;
      // Standalone: the page's plot styles inline, so the file renders the same alone.
      std::string s = p.svg;
      const auto gt = s.find('>');
      s.insert(gt + 1, std::string("\n<style>") + kSvgStyle + "</style>");
      write_file_atomic(svg_dir / (p.id + ".svg"), s);
    }
  }
  return r;
}

}  // namespace memplast::report
