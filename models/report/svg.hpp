// A small SVG plotting unit for the run report (memplast report): line charts, grouped
// bar charts and histograms, each a self-contained inline <svg> with axes, ticks, axis
// labels, a title and a legend. No scripts, no external resources.
//
// Every data point is one element with the class "mark" (a <circle> per line point, a
// <rect> per bar or histogram bin), and the <svg> carries data-marks="N", the number of
// marks it drew, so a test can count the marks in the rendered page and compare.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace memplast::report {

struct Axis {
  std::string label;
  bool log{false};      // log10 scale (values <= 0 are not drawn)
  bool integer{false};  // linear ticks on whole numbers only (e.g. epochs)
  // Fixed range; when min >= max the range is taken from the data.
  double min{0};
  double max{0};
};

// A vertical reference line (e.g. the endurance budget) with its label.
struct Marker {
  double x{0};
  std::string label;
};

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

struct LineChart {
  std::string id;  // the <svg>'s id (unique in the page)
  std::string title;
  Axis x;
  Axis y;
  std::vector<Series> series;
  bool points{true};  // a marker per point (the marks); false: one mark per series (the line)
  std::vector<Marker> markers;
};

// Bars grouped by category: group g has one bar per series s with values[s][g] (a value
// <= 0, or any value on a log axis that is not positive, draws no bar).
struct BarChart {
  std::string id;
  std::string title;
  std::vector<std::string> categories;
  Axis y;
  std::string x_label;
  std::vector<std::string> series;          // legend names
  std::vector<std::vector<double>> values;  // [series][category]
};

// Histogram: bins [edges[i], edges[i+1]) with counts[i]; several histograms overlay.
struct Hist {
  std::string name;
  std::vector<double> edges;  // counts.size() + 1 entries, increasing
  std::vector<double> counts;
};

struct HistogramChart {
  std::string id;
  std::string title;
  Axis x;
  Axis y;
  std::vector<Hist> hists;
  std::vector<Marker> markers;
};

std::string svg(const LineChart& c);
std::string svg(const BarChart& c);
std::string svg(const HistogramChart& c);

// Tick positions for [lo, hi]: "nice" steps (1, 2, 5 x 10^k), about n ticks; on a log
// axis the powers of ten in the range.
std::vector<double> nice_ticks(double lo, double hi, int n, bool log);
// Short label of a tick value ("0.25", "1e-06", "3.2e+05").
std::string tick_label(double v);
// Escapes & < > " for HTML/SVG text and attributes.
std::string escape(const std::string& s);
// The i-th colour of the palette (cycled).
const char* colour(std::size_t i);

}  // namespace memplast::report
