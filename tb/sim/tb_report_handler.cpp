// Testbench for the harness itself: a module logs through the facade with the
// simulated time, and an SC_INFO report is routed without counting as a failure.
#include <gtest/gtest.h>
#include <systemc>

#include "common/log.hpp"
#include "sim/sc_support.hpp"

namespace {
struct Ticker : sc_core::sc_module {
  SC_HAS_PROCESS(Ticker);
  explicit Ticker(const sc_core::sc_module_name& n) : sc_module(n), log_(name()) { SC_THREAD(run); }
  void run() {
    for (int i = 0; i < 3; ++i) {
      wait(memplast::sim::cycles(10, 100.0));  // 10 cycles at 100 MHz = 100 ns
      stamps.push_back(sc_core::sc_time_stamp());
      MP_LOG(log_, info, "tick {}", i);
    }
    SC_REPORT_INFO("tb", "ticker done");
  }
  std::vector<sc_core::sc_time> stamps;
  memplast::log::Logger log_;
};
}  // namespace

TEST(ReportHandler, TimestampsAndInfoRouting) {
  Ticker t("ticker");
  sc_core::sc_start();
  ASSERT_EQ(t.stamps.size(), 3U);
  EXPECT_EQ(t.stamps[0], sc_core::sc_time(100, sc_core::SC_NS));
  EXPECT_EQ(t.stamps[2], sc_core::sc_time(300, sc_core::SC_NS));
  EXPECT_EQ(memplast::sim::now_text(), "300.000 ns");
  EXPECT_EQ(memplast::sim::report_failures(), 0U);
}
