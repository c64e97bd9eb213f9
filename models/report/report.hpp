// memplast report RUN_DIR: one self-contained HTML page (report.html, in the run folder)
// from what a `memplast train` run wrote there: the configuration, the headline numbers
// and the plots (inline SVG, models/report/svg.hpp). No network, no external scripts or
// styles; an inline script checks, in the browser, that every plot rendered and records
// any script error in the page (element #report-status), for the headless-browser test.
//
// Inputs (docs/report.md): summary.json (required), accuracy.csv, energy.csv,
// writes_per_device.csv, trace.json, power.csv, histograms.json (optional: a missing
// one leaves a note in its plot's place).
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace memplast::report {

// A required input is missing or unreadable (the message names the file).
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Latency per sample by phase: the table the latency plot draws.
struct LatencyRow {
  std::string phase;
  double seconds_per_sample{0};
};
struct LatencyTable {
  std::vector<LatencyRow> rows;
  std::string source;  // where the numbers come from (shown under the plot)
};

struct PlotInfo {
  std::string id;
  std::string svg;       // the plot's <svg> element (empty when it is a note)
  std::size_t marks{0};  // 0 with a note when its inputs are missing
  std::string note;      // why it is missing or what it is based on
};

struct ReportInfo {
  std::filesystem::path path;  // RUN_DIR/report.html
  std::vector<PlotInfo> plots;
};

// The page's HTML for the run in run_dir (throws ReportError naming the file when
// summary.json is missing or invalid, or an optional input is malformed).
std::string render_report(const std::filesystem::path& run_dir, std::vector<PlotInfo>* plots);

// render_report, written atomically to run_dir/report.html; with svg_dir, each drawn plot
// also as svg_dir/<plot id>.svg (standalone files, e.g. for docs/).
ReportInfo write_report(const std::filesystem::path& run_dir,
                        const std::filesystem::path& svg_dir = {});

}  // namespace memplast::report
