// `memplast characterize`: program every level on one tile with program-and-verify, as
// one would characterize the silicon, through the SystemC characterization top
// (models/system/characterize.*: pv_ctrl + one tile): the first characterize.cells
// weights (row-major; 0 = all) get weight levels round-robin, the tile is read back
// right after programming and again characterize.relax_s later. Writes into --out:
//   characterize.csv  one row per programmed device (verify result and both read-backs)
//   levels.csv        per conductance level: target, band, n, mean/sigma at both times
//   iterations.csv    histogram of P&V iterations (pulses) per device
//   characterize.json summary (resolved config, failure rate, time, energy, levels)
//   levels.png        per-level conductance distributions (scripts/plot_characterize.py)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "common/histogram.hpp"
#include "common/output.hpp"
#include "system/characterize.hpp"

namespace memplast::cli {

namespace {

constexpr const char* kPython = "/usr/bin/python3";

struct Moments {
  double n{0}, mean{0}, m2{0};
  void add(double x) {
    n += 1;
    const double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  [[nodiscard]] double sigma() const { return n > 1 ? std::sqrt(m2 / (n - 1)) : 0.0; }
};

struct LevelStats {
  double target{0};
  pv::PvBand band;
  std::vector<std::string> members;  // weight level and side, e.g. "2+"
  Moments prog, end, relax, iters;
  std::uint64_t n{0}, failures{0}, in_band_prog{0}, in_band_end{0}, in_band_relax{0};
  std::vector<double> prog_values;
};

void check_python() {
  const std::string cmd = std::string(kPython) + " -c 'import numpy, matplotlib' > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    throw std::runtime_error(
        fmt::format("{} cannot import numpy and matplotlib (needed for levels.png): run "
                    "scripts/setup (it installs "
                    "python3-numpy and python3-matplotlib)",
                    kPython));
  }
}

std::filesystem::path find_script() {
  namespace fs = std::filesystem;
  const fs::path rel = fs::path("scripts") / "plot_characterize.py";
  std::vector<fs::path> tried;
  if (const char* src = std::getenv("MEMPLAST_SOURCE_DIR")) tried.push_back(fs::path(src) / rel);
  tried.push_back(fs::current_path() / rel);
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; up < 4 && !ec && !dir.empty(); ++up, dir = dir.parent_path())
    tried.push_back(dir / rel);
  for (const auto& p : tried) {
    if (fs::exists(p)) return p;
  }
  throw std::runtime_error(
      "scripts/plot_characterize.py not found (run from the source tree or set "
      "MEMPLAST_SOURCE_DIR)");
}

// The devices grouped by conductance level (target and band), the iteration histogram,
// the totals and the per-device CSV.
struct Aggregate {
  std::map<std::pair<double, double>, LevelStats> levels;
  std::vector<std::uint32_t> iterations;  // per device, for the histogram
  std::uint64_t failures{0}, fail_healthy{0}, stuck{0};
  Moments iters;
  std::string dev_csv;
};

Aggregate aggregate(const std::vector<system::CharacterizeSample>& samples) {
  Aggregate a;
  std::ostringstream dev_csv;
  dev_csv << "row,col,weight_level,side,target_uS,band_lo_uS,band_hi_uS,iterations,n_set,n_reset,n_"
             "verify,"
             "success,stuck,g_verify_uS,g_after_prog_uS,g_end_uS,g_after_relax_uS\n";
  for (const auto& s : samples) {
    const auto& r = s.rec;
    const char sign = r.side == tile::Side::pos ? '+' : '-';
    auto& L = a.levels[{r.target_uS, r.band.hi_uS - r.band.lo_uS}];
    L.target = r.target_uS;
    L.band = r.band;
    const std::string member = fmt::format("{}{}", r.cmd.level, sign);
    if (std::find(L.members.begin(), L.members.end(), member) == L.members.end())
      L.members.push_back(member);
    ++L.n;
    L.prog.add(s.g_prog_uS);
    L.relax.add(s.g_relax_uS);
    L.end.add(s.g_end_uS);
    L.prog_values.push_back(s.g_prog_uS);
    L.in_band_end += r.band.contains(s.g_end_uS) ? 1 : 0;
    L.iters.add(r.result.iterations);
    L.in_band_prog += r.band.contains(s.g_prog_uS) ? 1 : 0;
    L.in_band_relax += r.band.contains(s.g_relax_uS) ? 1 : 0;
    L.failures += r.result.success ? 0 : 1;
    a.failures += r.result.success ? 0 : 1;
    a.fail_healthy += (!r.result.success && !s.stuck) ? 1 : 0;
    a.stuck += s.stuck ? 1 : 0;
    a.iterations.push_back(static_cast<std::uint32_t>(r.result.iterations));
    a.iters.add(r.result.iterations);
    dev_csv << fmt::format(
        "{},{},{},{},{:.6g},{:.6g},{:.6g},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g}\n",
        r.cmd.row, r.cmd.col, r.cmd.level, sign == '+' ? "pos" : "neg", r.target_uS, r.band.lo_uS,
        r.band.hi_uS, r.result.iterations, r.result.n_set, r.result.n_reset, r.result.n_verify,
        r.result.success ? 1 : 0, s.stuck ? 1 : 0, r.result.g_final_uS, s.g_prog_uS, s.g_end_uS,
        s.g_relax_uS);
  }
  a.dev_csv = dev_csv.str();
  return a;
}

// Per conductance level: levels.csv, the JSON entries, and whether every level's
// spread right after programming lies inside its band.
struct LevelReport {
  std::string csv;
  nlohmann::json json = nlohmann::json::array();
  bool all_spread_inside{true};
};

LevelReport level_report(const std::map<std::pair<double, double>, LevelStats>& levels) {
  LevelReport rep;
  std::ostringstream lv_csv;
  lv_csv << "level,target_uS,band_lo_uS,band_hi_uS,members,n,failures,mean_prog_uS,sigma_prog_uS,"
            "in_band_prog,"
            "mean_relax_uS,sigma_relax_uS,in_band_relax,mean_iterations\n";
  int j = 0;
  for (const auto& kv : levels) {
    const auto& L = kv.second;
    std::string members;
    for (const auto& m : L.members) members += (members.empty() ? "" : " ") + m;
    const double n = static_cast<double>(L.n);
    // "Spread inside the band": the central 99 % of the reads right after programming
    // (0.5 % and 99.5 % quantiles) lie inside the band.
    auto v = L.prog_values;
    std::sort(v.begin(), v.end());
    const auto q = [&v](double f) {
      return v[static_cast<std::size_t>(f * static_cast<double>(v.size() - 1))];
    };
    const double q_lo = q(0.005), q_hi = q(0.995);
    const bool inside = q_lo >= L.band.lo_uS && q_hi <= L.band.hi_uS;
    rep.all_spread_inside = rep.all_spread_inside && inside;
    lv_csv << fmt::format(
        "{},{:.6g},{:.6g},{:.6g},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n", j,
        L.target, L.band.lo_uS, L.band.hi_uS, members, L.n, L.failures, L.prog.mean, L.prog.sigma(),
        static_cast<double>(L.in_band_prog) / n, L.relax.mean, L.relax.sigma(),
        static_cast<double>(L.in_band_relax) / n, L.iters.mean);
    rep.json.push_back({{"level", j},
                        {"target_uS", L.target},
                        {"band_uS", {L.band.lo_uS, L.band.hi_uS}},
                        {"members", L.members},
                        {"devices", L.n},
                        {"failures", L.failures},
                        {"after_programming",
                         {{"mean_uS", L.prog.mean},
                          {"sigma_uS", L.prog.sigma()},
                          {"in_band_fraction", static_cast<double>(L.in_band_prog) / n},
                          {"quantile_0p5_uS", q_lo},
                          {"quantile_99p5_uS", q_hi},
                          {"spread_inside_band", inside}}},
                        {"end_of_programming",
                         {{"mean_uS", L.end.mean},
                          {"sigma_uS", L.end.sigma()},
                          {"in_band_fraction", static_cast<double>(L.in_band_end) / n}}},
                        {"after_relaxation",
                         {{"mean_uS", L.relax.mean},
                          {"sigma_uS", L.relax.sigma()},
                          {"in_band_fraction", static_cast<double>(L.in_band_relax) / n}}},
                        {"mean_iterations", L.iters.mean}});
    ++j;
  }
  rep.csv = lv_csv.str();
  return rep;
}

nlohmann::json summary_json(const LoadedConfig& loaded, const system::CharacterizeRun& run,
                            const Aggregate& a, const LevelReport& rep, const CountHistogram& hist,
                            const nlohmann::json& hist_json) {
  const Config& cfg = *loaded.config;
  const auto& st = run.pv_stats;
  nlohmann::json eb = nlohmann::json::object();
  for (const auto& kv : run.energy_pv_by_phase) eb[kv.first] = kv.second;
  const double n_dev = static_cast<double>(run.samples.size());
  nlohmann::json js;
  js["config"] = loaded.resolved;
  js["seed"] = cfg.sim.seed;
  js["tile"] = {{"rows", cfg.tile.rows},
                {"cols", cfg.tile.cols},
                {"levels", cfg.tile.levels},
                {"mapping", cfg.tile.mapping}};
  js["weights"] = run.weights;
  js["devices"] = run.samples.size();
  js["failures"] = a.failures;
  js["failure_rate"] = n_dev > 0 ? static_cast<double>(a.failures) / n_dev : 0.0;
  js["failures_on_healthy_cells"] = a.fail_healthy;
  js["stuck_devices"] = a.stuck;
  js["pulses"] = {{"set", st.n_set}, {"reset", st.n_reset}, {"verify", st.n_verify}};
  js["iterations"] = {{"mean", a.iters.mean}, {"max", max_value(hist)}, {"histogram", hist_json}};
  js["time_s"] = {{"programming", run.t_programming_s},
                  {"relaxation", cfg.characterize.relax_s},
                  {"total", run.t_end_s}};
  js["energy_j"] = {{"total", run.energy_pv_J}, {"by_phase", eb}};
  js["spread_inside_band"] = rep.all_spread_inside;
  js["levels"] = rep.json;
  js["mode"] = "systemc: pv_ctrl + one TileModule";
  return js;
}

nlohmann::json run_characterize(const LoadedConfig& loaded, const std::filesystem::path& out,
                                bool plot) {
  const auto wall0 = std::chrono::steady_clock::now();
  (void)system::characterize_weights(*loaded.config);  // a bad characterize.cells fails first
  if (plot) check_python();
  const auto run = system::run_characterization(*loaded.config);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  const auto a = aggregate(run.samples);
  const auto rep = level_report(a.levels);
  std::ostringstream it_csv;
  it_csv << "iterations,devices\n";
  nlohmann::json jh = nlohmann::json::object();
  const CountHistogram hist = count_histogram(a.iterations);
  for (auto&& b : boost::histogram::indexed(hist)) {
    if (*b == 0) continue;
    it_csv << b.bin() << "," << *b << "\n";
    jh[std::to_string(b.bin())] = *b;
  }
  auto js = summary_json(loaded, run, a, rep, hist, jh);
  js["wall_time_s"] = wall;

  write_file_atomic(out / "characterize.csv", a.dev_csv);
  write_file_atomic(out / "levels.csv", rep.csv);
  write_file_atomic(out / "iterations.csv", it_csv.str());
  write_file_atomic(out / "characterize.json", js.dump(2) + "\n");
  if (plot) {
    const std::string cmd =
        fmt::format("{} '{}' '{}'", kPython, find_script().string(), out.string());
    if (std::system(cmd.c_str()) != 0) {
      throw std::runtime_error(fmt::format("plot failed: {} (levels.png not written)", cmd));
    }
  }
  return js;
}

}  // namespace

void add_characterize_command(CLI::App& app) {
  struct State {
    CommonOptions common;
    std::int64_t cells{-1};
    bool no_plot{false};
  };
  auto st = std::make_shared<State>();
  auto* sub = app.add_subcommand("characterize",
                                 "Program every level on one tile with program-and-verify (SystemC "
                                 "pv_ctrl + tile), read back after "
                                 "programming and after characterize.relax_s; per-level "
                                 "statistics, iteration histogram, plot");
  add_common_options(sub, st->common, "out/characterize");
  sub->add_option("--cells", st->cells,
                  "Weights to program (a sample; 0 = all); default: characterize.cells");
  sub->add_flag("--no-plot", st->no_plot, "Skip levels.png (no Python needed)");
  sub->callback([st] {
    auto overrides = st->common.overrides;
    if (st->cells >= 0) overrides.push_back(fmt::format("characterize.cells={}", st->cells));
    auto loaded = load_config(st->common.config_file, overrides);
    configure_logging(*loaded.config);
    const auto out = prepare_out_dir(st->common.out_dir);
    const auto js = run_characterize(loaded, out, !st->no_plot);
    for (const auto& l : js["levels"]) {
      std::cout << fmt::format(
          "level {} target {:7.2f} uS band [{:.2f}, {:.2f}]: n {} after programming {:.2f} +- "
          "{:.2f} uS, "
          "after {:g} s {:.2f} +- {:.2f} uS, {:.2f} iterations, {} failures\n",
          l["level"].get<int>(), l["target_uS"].get<double>(), l["band_uS"][0].get<double>(),
          l["band_uS"][1].get<double>(), l["devices"].get<std::uint64_t>(),
          l["after_programming"]["mean_uS"].get<double>(),
          l["after_programming"]["sigma_uS"].get<double>(),
          js["time_s"]["relaxation"].get<double>(), l["after_relaxation"]["mean_uS"].get<double>(),
          l["after_relaxation"]["sigma_uS"].get<double>(), l["mean_iterations"].get<double>(),
          l["failures"].get<std::uint64_t>());
    }
    std::cout << fmt::format(
        "{} devices, failure rate {:.4g} ({} on healthy cells), mean iterations {:.3f}, "
        "programming time "
        "{:.6g} s, energy {:.6g} J, wall {:.1f} s\nresults in {}/\n",
        js["devices"].get<std::uint64_t>(), js["failure_rate"].get<double>(),
        js["failures_on_healthy_cells"].get<std::uint64_t>(),
        js["iterations"]["mean"].get<double>(), js["time_s"]["programming"].get<double>(),
        js["energy_j"]["total"].get<double>(), js["wall_time_s"].get<double>(), out.string());
  });
}

}  // namespace memplast::cli
