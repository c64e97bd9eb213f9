// The run report's pieces (issue 12 item 4): the SVG plotting unit (ticks, marks, log
// axes), the value histogram and power series the run writes for it, and the report's
// handling of missing and invalid inputs. The page in a browser: tb/regress/check_report.py.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/histogram.hpp"
#include "common/power_series.hpp"
#include "report/report.hpp"
#include "report/svg.hpp"

using namespace memplast;
using namespace memplast::report;

namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::size_t data_marks(const std::string& svg) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(svg, m, std::regex("data-marks=\"(\\d+)\"")));
  return static_cast<std::size_t>(std::stoul(m[1]));
}

std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("memplast_test_report_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

void write(const std::filesystem::path& p, const std::string& s) { std::ofstream(p) << s; }

}  // namespace

TEST(Svg, NiceTicksLinearAndLog) {
  const auto t = nice_ticks(0, 1, 5, false);
  ASSERT_EQ(t.size(), 6U);
  EXPECT_DOUBLE_EQ(t.front(), 0.0);
  EXPECT_NEAR(t[1], 0.2, 1e-12);
  EXPECT_NEAR(t.back(), 1.0, 1e-12);
  const auto l = nice_ticks(1e-7, 1e-2, 6, true);
  ASSERT_EQ(l.size(), 6U);
  EXPECT_NEAR(l.front(), 1e-7, 1e-20);
  EXPECT_NEAR(l.back(), 1e-2, 1e-15);
  EXPECT_TRUE(nice_ticks(1, 1, 5, false).empty());
  EXPECT_TRUE(nice_ticks(0, 10, 5, true).empty());  // log axis from 0: no ticks
}

TEST(Svg, LineChartOneMarkPerDrawablePoint) {
  LineChart c;
  c.id = "t";
  c.series = {{"a", {1, 2, 3}, {0.5, 0.7, 0.9}}, {"b", {1, 2}, {0.1, -1}}};
  std::string s = svg(c);
  EXPECT_EQ(count(s, "<circle class=\"mark\""), 5U);
  EXPECT_EQ(data_marks(s), 5U);
  c.y.log = true;  // -1 cannot be drawn on a log axis
  s = svg(c);
  EXPECT_EQ(count(s, "<circle class=\"mark\""), 4U);
  EXPECT_EQ(data_marks(s), 4U);
}

TEST(Svg, BarsSkipZeroAndHistogramsSkipEmptyBins) {
  BarChart b;
  b.id = "b";
  b.categories = {"x", "y"};
  b.series = {"p", "q"};
  b.values = {{1e-3, 0}, {2e-6, 5e-4}};
  b.y.log = true;
  const std::string s = svg(b);
  EXPECT_EQ(count(s, "<rect class=\"mark\""), 3U);
  EXPECT_EQ(data_marks(s), 3U);
  HistogramChart h;
  h.id = "h";
  h.hists = {{"n", {0, 1, 2, 3}, {4, 0, 2}}};
  const std::string hs = svg(h);
  EXPECT_EQ(count(hs, "<rect class=\"mark\""), 2U);
  EXPECT_EQ(escape("a<b&\"c\">"), "a&lt;b&amp;&quot;c&quot;&gt;");
}

TEST(ValueHistogram, BinsFlowsAndJson) {
  auto h = value_histogram(4, -2, 2);
  for (double v : {-3.0, -1.5, 0.1, 0.2, 1.9, 2.0, 5.0}) h(v);
  const auto j = histogram_json(h, "x");
  EXPECT_EQ(j["name"], "x");
  EXPECT_DOUBLE_EQ(j["lo"].get<double>(), -2.0);
  EXPECT_DOUBLE_EQ(j["width"].get<double>(), 1.0);
  EXPECT_EQ(j["counts"], nlohmann::json({1, 0, 2, 1}));
  EXPECT_EQ(j["underflow"], 1);
  EXPECT_EQ(j["overflow"], 2);  // 2.0 is past [-2, 2)
  EXPECT_THROW(value_histogram(0, 0, 1), std::invalid_argument);
}

TEST(PowerSeries, BlocksSummedAndLateBlocksZeroBefore) {
  EnergyLedger l;
  PowerSeries p;
  const auto a = l.entry("layer0_t0", "adc");
  const auto b = l.entry("layer0_t1", "adc");
  l.charge(a, 1.0);
  l.charge(b, 2.0);
  p.sample(0.5, l);
  l.charge(l.entry("meta_unit", "update"), 4.0);
  p.sample(1.0, l, 0.25);
  EXPECT_EQ(p.csv(),
            "simulated_time_s,host,layer0_tiles,meta_unit\n"
            "5.000000000e-01,0.000000000e+00,3.000000000e+00,0.000000000e+00\n"
            "1.000000000e+00,2.500000000e-01,3.000000000e+00,4.000000000e+00\n");
}

TEST(Report, MissingOrInvalidSummaryIsAnErrorNamingTheFile) {
  const auto d = temp_dir("bad");
  try {
    write_report(d);
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find((d / "summary.json").string()), std::string::npos);
  }
  write(d / "summary.json", "{\"status\": ");
  EXPECT_THROW(write_report(d), ReportError);
  write(d / "summary.json", "[1, 2]");
  EXPECT_THROW(write_report(d), ReportError);
  EXPECT_FALSE(std::filesystem::exists(d / "report.html"));
  std::filesystem::remove_all(d);
}

TEST(Report, MissingOptionalInputsAreNotes) {
  const auto d = temp_dir("notes");
  write(d / "summary.json",
        R"({"status": "complete", "mode": "functional", "samples_trained": 10,
            "accuracy": {"after_task": [], "per_epoch": [
              {"task": "a", "epoch": 1, "accuracy": {"a": 0.5}},
              {"task": "b", "epoch": 1, "accuracy": {"a": 0.4, "b": 0.6}}]}})");
  const auto r = write_report(d);
  ASSERT_EQ(r.plots.size(), 7U);
  EXPECT_EQ(r.plots[0].id, "plot-accuracy");
  EXPECT_EQ(r.plots[0].marks, 3U);
  for (std::size_t i = 1; i < r.plots.size(); ++i) {
    EXPECT_EQ(r.plots[i].marks, 0U) << r.plots[i].id;
    EXPECT_FALSE(r.plots[i].note.empty()) << r.plots[i].id;
  }
  std::ifstream in(d / "report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(count(html, "<p class=\"note\">"), 6U);
  EXPECT_EQ(count(html, "<svg "), 1U);
  // A malformed optional input is an error naming it, not a silently empty plot.
  write(d / "energy.csv", "component,phase,joules,count\ntile,adc,abc,1\n");
  try {
    write_report(d);
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("energy.csv"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(d);
}
