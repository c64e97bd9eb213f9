#include "report/svg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace memplast::report {

namespace {

constexpr double kW = 700;
constexpr double kH = 380;
constexpr double kLeft = 78;
constexpr double kRight = 170;  // legend column
constexpr double kTop = 34;
constexpr double kBottom = 58;

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

struct Range {
  double lo{std::numeric_limits<double>::infinity()};
  double hi{-std::numeric_limits<double>::infinity()};
  void add(double v, bool log) {
    if (!usable(v, log)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // The axis range: the fixed one if given, else the data's, widened to something drawable.
  void finish(const Axis& a, bool from_zero) {
    if (a.min < a.max) {
      lo = a.min;
      hi = a.max;
      return;
    }
    if (!(lo <= hi)) {  // no data
      lo = a.log ? 1 : 0;
      hi = a.log ? 10 : 1;
    }
    if (a.log) {
      lo = std::pow(10.0, std::floor(std::log10(lo)));
      hi = std::pow(10.0, std::ceil(std::log10(hi)));
      if (hi <= lo) hi = lo * 10;
      return;
    }
    if (from_zero) {
      lo = std::min(lo, 0.0);
      hi = std::max(hi, 0.0);
    }
    if (hi <= lo) {
      const double d = lo == 0 ? 1 : std::abs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
    const auto t = nice_ticks(lo, hi, 5, false);
    if (t.size() >= 2) {
      const double step = t[1] - t[0];
      lo = std::min(lo, std::floor(lo / step + 1e-9) * step);
      hi = std::max(hi, std::ceil(hi / step - 1e-9) * step);
    }
  }
};

// The plotting frame: maps data to pixels and draws axes, ticks, grid and labels.
struct Frame {
  Axis xa;
  Axis ya;
  Range xr;
  Range yr;
  double px0{kLeft};
  double px1{kW - kRight};
  double py0{kH - kBottom};
  double py1{kTop};

  [[nodiscard]] double t(double v, const Range& r, bool log) const {
    if (log) return (std::log10(v) - std::log10(r.lo)) / (std::log10(r.hi) - std::log10(r.lo));
    return (v - r.lo) / (r.hi - r.lo);
  }
  // The ranges once the data are added: x widened to the markers, y from zero.
  void finish_ranges(const std::vector<Marker>& ms) {
    for (const auto& m : ms) xr.add(m.x, xa.log);
    xr.finish(xa, false);
    yr.finish(ya, true);
  }
  [[nodiscard]] double X(double v) const { return px0 + (px1 - px0) * t(v, xr, xa.log); }
  [[nodiscard]] double Y(double v) const {
    const double f = std::clamp(t(v, yr, ya.log), -0.02, 1.02);
    return py0 - (py0 - py1) * f;
  }

  [[nodiscard]] std::string axes(bool x_ticks) const {
    std::string s;
    // Grid and y ticks.
    for (double v : nice_ticks(yr.lo, yr.hi, 5, ya.log)) {
      const double y = Y(v);
      s += fmt::format(
          "<line class=\"grid\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>"
          "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
          px0, y, px1, y, px0 - 6, y + 4, tick_label(v));
    }
    if (x_ticks) {
      for (double v : nice_ticks(xr.lo, xr.hi, 6, xa.log)) {
        if (xa.integer && v != std::round(v)) continue;
        const double x = X(v);
        s += fmt::format(
            "<line class=\"axis\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>"
            "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
            x, py0, x, py0 + 5, x, py0 + 18, tick_label(v));
      }
    }
    s += fmt::format(
        "<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>"
        "<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{3:.1f}\"/>\n",
        px0, py0, px1, py1);
    s += fmt::format(
        "<text class=\"label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
        (px0 + px1) / 2, kH - 14, escape(xa.label));
    s += fmt::format(
        "<text class=\"label\" transform=\"translate(16,{:.1f}) rotate(-90)\" "
        "text-anchor=\"middle\">{}</text>\n",
        (py0 + py1) / 2, escape(ya.label));
    return s;
  }

  [[nodiscard]] std::string markers(const std::vector<Marker>& ms) const {
    std::string s;
    for (std::size_t k = 0; k < ms.size(); ++k) {
      const auto& m = ms[k];
      if (!usable(m.x, xa.log) || m.x < xr.lo || m.x > xr.hi) continue;
      const double x = X(m.x);
      const double ly = py1 + 12 + 14 * static_cast<double>(k % 3);  // staggered labels
      s += fmt::format(
          "<line class=\"ref\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>"
          "<text class=\"reflabel\" x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
          x, py0, py1, x - 4, ly, escape(m.label));
    }
    return s;
  }
};

std::string legend(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const double y = kTop + 8 + 18 * static_cast<double>(i);
    s += fmt::format(
        "<rect class=\"key\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"12\" fill=\"{}\"/>"
        "<text class=\"legend\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        kW - kRight + 14, y - 10, colour(i), kW - kRight + 32, y, escape(names[i]));
  }
  return s;
}

std::string open(const std::string& id, const std::string& title, std::size_t marks) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"{0}\" data-marks=\"{1}\" "
      "width=\"{2:.0f}\" height=\"{3:.0f}\" viewBox=\"0 0 {2:.0f} {3:.0f}\" role=\"img\" "
      "aria-label=\"{4}\">\n<text class=\"title\" x=\"{5:.1f}\" y=\"20\" "
      "text-anchor=\"middle\">{4}</text>\n",
      escape(id), marks, kW, kH, escape(title), (kLeft + kW - kRight) / 2);
}

}  // namespace

std::string escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

const char* colour(std::size_t i) {
  static const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

std::vector<double> nice_ticks(double lo, double hi, int n, bool log) {
  std::vector<double> t;
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi)) return t;
  if (log) {
    if (lo <= 0) return t;
    const int a = static_cast<int>(std::ceil(std::log10(lo) - 1e-9));
    const int b = static_cast<int>(std::floor(std::log10(hi) + 1e-9));
    const int span = b - a + 1;
    const int stride = std::max(1, (span + n - 1) / std::max(1, n));
    for (int k = a; k <= b; k += stride) t.push_back(std::pow(10.0, k));
    return t;
  }
  const double raw = (hi - lo) / std::max(1, n);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.2g}", v);
  return fmt::format("{:.4g}", v);
}

std::string svg(const LineChart& c) {
  Frame f{c.x, c.y, {}, {}};
  for (const auto& s : c.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.x[i], c.x.log) || !usable(s.y[i], c.y.log)) continue;
      f.xr.add(s.x[i], c.x.log);
      f.yr.add(s.y[i], c.y.log);
    }
  }
  f.finish_ranges(c.markers);
  std::string body;
  std::size_t marks = 0;
  std::vector<std::string> names;
  for (std::size_t si = 0; si < c.series.size(); ++si) {
    const auto& s = c.series[si];
    names.push_back(s.name);
    std::string path;
    std::string pts;
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.x[i], c.x.log) || !usable(s.y[i], c.y.log)) continue;
      const double x = f.X(s.x[i]);
      const double y = f.Y(s.y[i]);
      path += fmt::format("{}{:.1f},{:.1f}", n == 0 ? "M" : " L", x, y);
      if (c.points) {
        pts += fmt::format(
            "<circle class=\"mark\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\">"
            "<title>{}: ({}, {})</title></circle>\n",
            x, y, colour(si), escape(s.name), tick_label(s.x[i]), tick_label(s.y[i]));
        ++marks;
      }
      ++n;
    }
    if (n == 0) continue;
    body += fmt::format(
        "<path class=\"{}\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"/>\n",
        c.points ? "line" : "line mark", path, colour(si));
    if (!c.points) ++marks;
    body += pts;
  }
  return open(c.id, c.title, marks) + f.axes(true) + f.markers(c.markers) + body + legend(names) +
         "</svg>\n";
}

std::string svg(const BarChart& c) {
  Frame f{Axis{c.x_label}, c.y, {}, {}};
  f.xr.lo = 0;
  f.xr.hi = std::max<double>(1, static_cast<double>(c.categories.size()));
  for (const auto& v : c.values)
    for (double y : v) f.yr.add(y, c.y.log);
  f.yr.finish(c.y, true);
  const std::size_t ns = std::max<std::size_t>(1, c.series.size());
  const double group = (f.px1 - f.px0) / f.xr.hi;
  const double bw = group * 0.8 / static_cast<double>(ns);
  std::string body;
  std::size_t marks = 0;
  for (std::size_t g = 0; g < c.categories.size(); ++g) {
    const double gx = f.px0 + group * static_cast<double>(g);
    for (std::size_t s = 0; s < c.values.size(); ++s) {
      if (g >= c.values[s].size()) continue;
      const double v = c.values[s][g];
      if (!usable(v, c.y.log) || v <= 0) continue;
      const double y = f.Y(v);
      const double base = c.y.log ? f.py0 : f.Y(0);
      body += fmt::format(
          "<rect class=\"mark\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
          "fill=\"{}\"><title>{} {}: {}</title></rect>\n",
          gx + group * 0.1 + bw * static_cast<double>(s), y, std::max(bw - 1, 1.0),
          std::max(base - y, 0.5), colour(s), escape(c.categories[g]),
          escape(s < c.series.size() ? c.series[s] : ""), tick_label(v));
      ++marks;
    }
    body += fmt::format(
        "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
        gx + group / 2, f.py0 + 18, escape(c.categories[g]));
  }
  return open(c.id, c.title, marks) + f.axes(false) + body + legend(c.series) + "</svg>\n";
}

std::string svg(const HistogramChart& c) {
  Frame f{c.x, c.y, {}, {}};
  for (const auto& h : c.hists) {
    for (std::size_t i = 0; i < h.counts.size() && i + 1 < h.edges.size(); ++i) {
      if (!(h.counts[i] > 0)) continue;
      f.xr.add(h.edges[i], c.x.log);
      f.xr.add(h.edges[i + 1], c.x.log);
      f.yr.add(h.counts[i], c.y.log);
    }
  }
  f.finish_ranges(c.markers);
  std::string body;
  std::size_t marks = 0;
  std::vector<std::string> names;
  const bool overlay = c.hists.size() > 1;
  for (std::size_t hi = 0; hi < c.hists.size(); ++hi) {
    const auto& h = c.hists[hi];
    names.push_back(h.name);
    for (std::size_t i = 0; i < h.counts.size() && i + 1 < h.edges.size(); ++i) {
      const double v = h.counts[i];
      if (!(v > 0) || !usable(h.edges[i], c.x.log)) continue;
      const double x0 = f.X(h.edges[i]);
      const double x1 = f.X(h.edges[i + 1]);
      const double y = f.Y(v);
      body += fmt::format(
          "<rect class=\"mark\" x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" "
          "fill=\"{}\"{}><title>{} [{}, {}): {}</title></rect>\n",
          x0, y, std::max(x1 - x0, 1.0), std::max(f.py0 - y, 0.5), colour(hi),
          overlay ? " fill-opacity=\"0.6\"" : "", escape(h.name), tick_label(h.edges[i]),
          tick_label(h.edges[i + 1]), tick_label(v));
      ++marks;
    }
  }
  return open(c.id, c.title, marks) + f.axes(true) + f.markers(c.markers) + body + legend(names) +
         "</svg>\n";
}

}  // namespace memplast::report
