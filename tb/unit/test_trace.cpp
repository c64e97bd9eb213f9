// The trace library (models/trace): the streaming trace-event writer, the selection by
// trace.* keys and the tracer's derived tracks. No SystemC.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/schema.hpp"
#include "params_util.hpp"
#include "trace/selection.hpp"
#include "trace/trace_params.hpp"
#include "trace/trace_writer.hpp"
#include "trace/tracer.hpp"

namespace fs = std::filesystem;
using memplast::trace::Args;
using memplast::trace::Context;
using memplast::trace::Ps;
using memplast::trace::Selection;
using memplast::trace::TraceParams;
using memplast::trace::Tracer;
using memplast::trace::TraceWriter;
using nlohmann::json;

namespace {

fs::path temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto d = fs::temp_directory_path() / fs::path(std::string("memplast_test_trace_") +
                                                info->test_suite_name() + "_" + info->name());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

json load(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << p;
  return json::parse(in);  // throws on malformed JSON: the test fails
}

std::vector<json> non_meta(const json& doc) {
  std::vector<json> v;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] != "M") v.push_back(e);
  }
  return v;
}

bool only_file(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  return n == 1;
}

}  // namespace

TEST(TraceText, PicosecondsAsMicroseconds) {
  EXPECT_EQ(memplast::trace::ps_to_us_text(0), "0");
  EXPECT_EQ(memplast::trace::ps_to_us_text(1), "0.000001");
  EXPECT_EQ(memplast::trace::ps_to_us_text(1500000), "1.5");
  EXPECT_EQ(memplast::trace::ps_to_us_text(12000345), "12.000345");
  EXPECT_EQ(memplast::trace::ps_to_us_text(3000000000000ULL), "3000000");
}

TEST(TraceText, Escaping) {
  EXPECT_EQ(memplast::trace::json_escape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
  Args a;
  a.add("n", 3).add("x", 0.5).add("ok", true).add("s", "q\"").add("nan", std::nan(""));
  const auto j = json::parse(a.json());
  EXPECT_EQ(j["n"], 3);
  EXPECT_EQ(j["x"], 0.5);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["s"], "q\"");
  EXPECT_TRUE(j["nan"].is_string());
}

TEST(TraceWriter, WritesEventsInTimeOrderAndRenamesIntoPlace) {
  const auto dir = temp_dir();
  const auto path = dir / "trace.json";
  {
    TraceWriter w(path);
    const auto a = w.add_track("tiles", "layer0_t0");
    const auto b = w.add_track("tiles", "layer0_t1");
    const auto h = w.add_track("host", "firmware");
    EXPECT_EQ(a.pid, b.pid);
    EXPECT_NE(a.tid, b.tid);
    EXPECT_NE(a.pid, h.pid);
    EXPECT_FALSE(fs::exists(path));  // only the temporary so far
    // handed in out of order (reserved ahead of time), at or after the watermark 0
    w.complete(a, "mvm", "tile", 5'000'000, 2'000'000, Args().add("rows", 128));
    w.begin(h, "batch", "phase", 1'000'000);
    w.complete(b, "mvm", "tile", 3'000'000, 1'000'000);
    w.advance(4'000'000);  // ts <= 4 us written, 5 us still buffered
    EXPECT_EQ(w.buffered(), 1U);
    w.end(h, 9'000'000);
    w.counter(h, "queue", 6'000'000, Args().add("value", 2));
    w.finish();
    EXPECT_EQ(w.late_events(), 0U);
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(only_file(dir)) << "the temporary was not removed";
  const auto doc = load(path);
  EXPECT_EQ(doc["otherData"]["status"], "complete");
  EXPECT_EQ(doc["displayTimeUnit"], "ns");
  const auto ev = non_meta(doc);
  ASSERT_EQ(ev.size(), 5U);
  std::vector<double> ts;
  for (const auto& e : ev) ts.push_back(e["ts"].get<double>());
  EXPECT_EQ(ts, (std::vector<double>{1, 3, 5, 6, 9}));
  EXPECT_EQ(ev[2]["dur"].get<double>(), 2.0);
  EXPECT_EQ(ev[2]["args"]["rows"], 128);
  EXPECT_EQ(ev[0]["ph"], "B");
  EXPECT_EQ(ev[4]["ph"], "E");
  // metadata: process and thread names
  std::map<std::string, int> names;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M" && (e["name"] == "thread_name" || e["name"] == "process_name")) {
      names[e["args"]["name"].get<std::string>()]++;
    }
  }
  EXPECT_EQ(names["tiles"], 1);
  EXPECT_EQ(names["layer0_t0"], 1);
  EXPECT_EQ(names["layer0_t1"], 1);
  EXPECT_EQ(names["firmware"], 1);
}

TEST(TraceWriter, UnfinishedWriterStillLeavesValidJson) {
  const auto dir = temp_dir();
  const auto path = dir / "trace.json";
  try {
    TraceWriter w(path);
    const auto t = w.add_track("host", "firmware");
    w.begin(t, "epoch", "phase", 10);
    throw std::runtime_error("the run failed");
  } catch (const std::runtime_error&) {
  }
  const auto doc = load(path);
  EXPECT_EQ(doc["otherData"]["status"], "aborted");
  EXPECT_EQ(non_meta(doc).size(), 1U);
  EXPECT_TRUE(only_file(dir));
}

TEST(TraceWriter, BoundedBufferCountsLateEventsAndKeepsThem) {
  const auto dir = temp_dir();
  const auto path = dir / "trace.json";
  {
    TraceWriter w(path, 2);
    const auto t = w.add_track("p", "t");
    w.complete(t, "a", "", 30, 1);
    w.complete(t, "b", "", 20, 1);
    w.complete(t, "c", "", 40, 1);  // buffer over 2: writes ts 20
    EXPECT_EQ(w.buffered(), 2U);
    w.complete(t, "d", "", 10, 1);  // earlier than one written: late, written anyway
    EXPECT_EQ(w.late_events(), 1U);
    w.finish();
  }
  const auto doc = load(path);
  EXPECT_EQ(doc["otherData"]["late_events"], 1);
  EXPECT_EQ(non_meta(doc).size(), 4U);
}

TEST(TraceWriter, UnwritablePathIsAnError) {
  EXPECT_THROW(TraceWriter("/proc/memplast_no_such_dir/trace.json"), std::runtime_error);
}

TEST(TraceSelection, Blocks) {
  TraceParams p;
  EXPECT_TRUE(Selection(p).block("anything"));
  p.blocks = "host, layer0_t*,pv_ctrl";
  Selection s(p);
  EXPECT_TRUE(s.block("host"));
  EXPECT_TRUE(s.block("layer0_t12"));
  EXPECT_TRUE(s.block("pv_ctrl"));
  EXPECT_FALSE(s.block("layer1_t0"));
  EXPECT_FALSE(s.block("hostx"));
  EXPECT_FALSE(s.block("bus"));
  EXPECT_THROW(memplast::trace::parse_block_patterns("a,,b"), std::invalid_argument);
  EXPECT_THROW(memplast::trace::parse_block_patterns("a*b"), std::invalid_argument);
}

TEST(TraceSelection, ContextRanges) {
  TraceParams p;
  p.task_first = 1;
  p.task_last = 1;
  p.epoch_last = 0;
  p.batch_first = 2;
  p.batch_last = 3;
  Selection s(p);
  EXPECT_TRUE(s.context(Context{1, 0, 2}));
  EXPECT_TRUE(s.context(Context{1, 0, 3}));
  EXPECT_FALSE(s.context(Context{1, 0, 4}));
  EXPECT_FALSE(s.context(Context{1, 0, 1}));
  EXPECT_FALSE(s.context(Context{0, 0, 2}));
  EXPECT_FALSE(s.context(Context{1, 1, 2}));
  // coarser phases (batch or epoch not known yet) pass on the known fields
  EXPECT_TRUE(s.context(Context{1, -1, -1}));
  EXPECT_TRUE(s.context(Context{1, 0, -1}));
  EXPECT_FALSE(s.context(Context{2, -1, -1}));
}

TEST(TraceSelection, SetupOnlyWithoutRanges) {
  Context setup;
  setup.setup = true;
  EXPECT_TRUE(Selection(TraceParams{}).context(setup));
  TraceParams p;
  p.batch_last = 0;  // any range bound leaves the initialisation out
  EXPECT_FALSE(Selection(p).context(setup));
  EXPECT_TRUE(Selection(p).context(Context{0, 0, 0}));
  p = TraceParams{};
  p.task_first = 0;
  EXPECT_FALSE(Selection(p).context(setup));
}

TEST(TraceSelection, Window) {
  TraceParams p;
  p.window_start_us = 10;
  p.window_end_us = 20;
  Selection s(p);
  EXPECT_FALSE(s.window(0, 5'000'000));         // ends before
  EXPECT_FALSE(s.window(0, 10'000'000));        // ends exactly at the start
  EXPECT_TRUE(s.window(9'000'000, 2'000'000));  // overlaps the start
  EXPECT_TRUE(s.window(15'000'000, 0));
  EXPECT_TRUE(s.window(19'000'000, 5'000'000));   // overlaps the end
  EXPECT_FALSE(s.window(20'000'000, 1'000'000));  // starts at the end
  TraceParams open;
  EXPECT_TRUE(Selection(open).window(1ULL << 50, 1));
}

TEST(TraceParamsKeys, ValidatedBySchema) {
  TraceParams p;
  memplast::cfg::Schema s;
  memplast::trace::bind_params(s, p);
  s.reset_defaults();
  EXPECT_FALSE(p.enable);
  s.validate();
  s.apply_override("trace.blocks=a*b");
  memplast::test::expect_error_names(s, "trace.blocks");
  s.reset_defaults();
  s.apply_override("trace.window_start_us=5");
  s.apply_override("trace.window_end_us=5");
  EXPECT_THROW(s.validate(), memplast::cfg::ConfigError);
  s.reset_defaults();
  s.apply_override("trace.batch_first=4");
  s.apply_override("trace.batch_last=3");
  EXPECT_THROW(s.validate(), memplast::cfg::ConfigError);
  EXPECT_THROW(s.apply_override("trace.bus_aggregate=0"), memplast::cfg::ConfigError);
}

TEST(Tracer, BeginEndMatchedAcrossSelectionChanges) {
  const auto dir = temp_dir();
  const auto path = dir / "trace.json";
  TraceParams p;
  p.batch_first = 1;
  p.batch_last = 1;
  {
    Tracer t(p, path);
    const auto h = t.track("host", "firmware");
    t.set_context(Context{0, -1, -1});
    t.begin(h, "task", "phase", 0);  // written (batch unknown)
    for (int b = 0; b < 3; ++b) {
      t.set_context(Context{0, 0, b});
      t.begin(h, "batch", "phase", static_cast<Ps>(b) * 100);
      t.begin(h, "forward", "phase", static_cast<Ps>(b) * 100 + 10);
      t.end(h, static_cast<Ps>(b) * 100 + 50);
      t.set_context(Context{0, 0, b + 1});  // the context moves on before the batch ends
      t.end(h, static_cast<Ps>(b) * 100 + 90);
    }
    t.begin(h, "evaluation", "phase", 400);  // batch 3: not selected, never closed
    t.set_context(Context{0, 0, 1});
    t.begin(h, "left_open", "phase", 500);  // selected, closed by finish()
    t.finish();
  }
  const auto ev = non_meta(load(path));
  std::vector<std::string> seq;
  for (const auto& e : ev)
    seq.push_back(e["ph"].get<std::string>() +
                  (e.contains("name") ? e["name"].get<std::string>() : ""));
  EXPECT_EQ(seq, (std::vector<std::string>{"Btask", "Bbatch", "Bforward", "E", "E", "Bleft_open",
                                           "E", "E"}));
  EXPECT_EQ(ev.back()["ts"].get<double>(), 500e-6);  // closed at the last time seen
}

TEST(Tracer, PowerCounterIntegratesToTheEnergy) {
  const auto dir = temp_dir();
  const auto path = dir / "trace.json";
  TraceParams p;
  p.counter_interval_us = 1.0;  // 1e6 ps bins
  double total = 0;
  {
    Tracer t(p, path);
    t.energy("tile", 500'000, 2'000'000, 3e-6);  // 0.5 .. 2.5 us
    t.energy("pv_ctrl", 1'000'000, 0, 1e-6);     // instantaneous, bin 1
    t.advance(1'000'000);                        // bin 0 final
    t.energy("tile", 5'200'000, 100'000, 1e-7);  // bin 5
    EXPECT_EQ(t.late_counter_amounts(), 0U);
    t.energy("tile", 200'000, 1, 1.0);  // falls in a written bin: refused
    EXPECT_EQ(t.late_counter_amounts(), 1U);
    t.advance(10'000'000);
    t.finish();
    total = 3e-6 + 1e-6 + 1e-7;
  }
  const auto ev = non_meta(load(path));
  // integrate: each sample holds until the next one (step function), bins of 1 us
  double energy = 0;
  double prev_ts = -1;
  std::map<std::string, double> level;
  for (const auto& e : ev) {
    ASSERT_EQ(e["ph"], "C");
    ASSERT_EQ(e["name"], "power_W");
    const double ts = e["ts"].get<double>();
    if (prev_ts >= 0) {
      for (const auto& [s, w] : level) energy += w * (ts - prev_ts) * 1e-6;
    }
    for (auto it = e["args"].begin(); it != e["args"].end(); ++it)
      level[it.key()] = it.value().get<double>();
    prev_ts = ts;
  }
  for (const auto& [s, w] : level) EXPECT_EQ(w, 0.0) << s << " does not drop to zero";
  EXPECT_NEAR(energy, total, total * 1e-12);
}

TEST(Tracer, BusBurstsAggregateAndCountUtilisation) {
  const auto dir = temp_dir();
  const auto path = dir / "trace.json";
  TraceParams p;
  p.bus_aggregate = 4;
  p.counter_interval_us = 1.0;
  {
    Tracer t(p, path);
    const auto bus = t.track("bus", "bus");
    for (int i = 0; i < 6; ++i) {  // 6 write bursts of 256 B, 100 ns each, back to back
      t.bus_burst(bus, "host", "tile0", true, 256, static_cast<Ps>(i) * 100'000, 100'000, 0);
    }
    t.bus_burst(bus, "host", "tile0", false, 64, 600'000, 50'000, 10'000);
    t.finish();
  }
  const auto ev = non_meta(load(path));
  std::vector<json> bus;
  std::vector<json> util;
  for (const auto& e : ev) (e["ph"] == "X" ? bus : util).push_back(e);
  ASSERT_EQ(bus.size(), 3U);  // 4 writes, 2 writes, 1 read
  EXPECT_EQ(bus[0]["args"]["bursts"], 4);
  EXPECT_EQ(bus[0]["args"]["bytes"], 1024);
  EXPECT_DOUBLE_EQ(bus[0]["dur"].get<double>(), 0.4);
  EXPECT_EQ(bus[1]["args"]["bursts"], 2);
  EXPECT_EQ(bus[2]["name"], "read");
  ASSERT_FALSE(util.empty());
  EXPECT_EQ(util[0]["name"], "bus_utilisation");
  EXPECT_NEAR(util[0]["args"]["bus"].get<double>(), 0.65, 1e-12);  // 650 ns busy in the 1 us bin
}

TEST(Tracer, UnselectedBlocksAndContextWriteNothing) {
  const auto dir = temp_dir();
  const auto path = dir / "trace.json";
  TraceParams p;
  p.blocks = "layer0_t*";
  p.task_first = 1;
  {
    Tracer t(p, path);
    const auto a = t.track("tiles", "layer0_t0");
    const auto b = t.track("tiles", "layer1_t0");
    EXPECT_FALSE(t.on(b));
    t.set_context(Context{0, 0, 0});
    EXPECT_FALSE(t.on(a));
    t.complete(a, "mvm", "tile", 0, 10);
    t.set_context(Context{1, 0, 0});
    t.complete(a, "mvm", "tile", 20, 10);
    t.complete(b, "mvm", "tile", 20, 10);
    t.finish();
  }
  const auto doc = load(path);
  const auto ev = non_meta(doc);
  ASSERT_EQ(ev.size(), 1U);
  EXPECT_EQ(ev[0]["ts"].get<double>(), 20e-6);
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M" && e["args"].contains("name")) {
      EXPECT_NE(e["args"]["name"].get<std::string>(), "layer1_t0");
    }
  }
}
