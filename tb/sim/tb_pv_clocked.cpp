// pv_ctrl clocked (pv.f_clk_MHz > 0, the default 100 MHz): every device event takes
// whole controller cycles (the tile's latency rounded up, pv::clocked_s), a command that
// reaches an idle controller starts pv::kIdleStartCycles later (the queue write, then the
// pop: the RTL pv_fsm's cmd_valid -> first verify, docs/cosim.md), a command arriving at
// the time the last one ended counts as reaching an idle controller, and a command queued
// while another runs starts when that one ends, with no cycles between.
#include <gtest/gtest.h>
#include <systemc>

#include <vector>

#include "common/energy.hpp"
#include "pv/pv_algo.hpp"
#include "pv/pv_ctrl.hpp"
#include "sim/sc_support.hpp"
#include "tile/tile_sc.hpp"
#include "tile_tb_util.hpp"

namespace mp = memplast::pv;
namespace mt = memplast::tile;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr double kMHz = 100.0;

mt::TileParams tile_params() {
  mt::TileParams p;
  p.rows = 8;
  p.cols = 8;
  p.levels = 5;
  return p;
}

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, mt::TileModule& t, mp::PvCtrl& pv)
      : sc_module(n), ipv("ipv"), it("it"), tile(t), ctrl(pv) {
    ipv.socket.bind(pv.socket);  // register ports: bound, unused
    it.socket.bind(t.socket);
    pv.tile_socket[0].bind(t.prog_socket);
    pv.set_record_callback([this](const mp::PvDeviceRecord& rec) { records.push_back(rec); });
    SC_THREAD(run);
  }
  tile_tb::Initiator ipv;
  tile_tb::Initiator it;
  mt::TileModule& tile;
  mp::PvCtrl& ctrl;
  std::vector<mp::PvDeviceRecord> records;
  bool finished{false};

  [[nodiscard]] sc_time cyc(double n) const { return memplast::sim::cycles(n, kMHz); }
  // The clocked loop time of one device: whole cycles per event.
  [[nodiscard]] sc_time loop_time(const mp::PvResult& r) const {
    const double v = mp::clocked_s(tile.core().verify_cost().latency_s, kMHz);
    const double p = mp::clocked_s(tile.core().pulse_cost().latency_s, kMHz);
    return sc_time(v * r.n_verify + p * (r.n_set + r.n_reset), sc_core::SC_SEC);
  }
  void wait_idle() {
    while (!ctrl.idle()) wait(ctrl.idle_event());
  }

  void run() {
    // The tile's 61 ns verify takes 7 cycles of 100 MHz, its 100 ns pulse 10.
    EXPECT_DOUBLE_EQ(mp::clocked_s(tile.core().verify_cost().latency_s, kMHz) * kMHz * 1e6, 7.0);
    wait(sc_time(1, sc_core::SC_US));
    // One command to an idle controller: a fresh weight, both devices of the pair.
    const sc_time t0 = sc_time_stamp();
    ASSERT_TRUE(ctrl.try_push({0, 0, 0, 4}));
    wait_idle();
    ASSERT_EQ(records.size(), 2U);
    EXPECT_EQ(records[0].start, t0 + cyc(mp::kIdleStartCycles));
    EXPECT_EQ(records[0].end, records[0].start + loop_time(records[0].result));
    EXPECT_EQ(records[1].start, records[0].end);  // the pair's second device follows at once
    EXPECT_EQ(records[1].end, records[1].start + loop_time(records[1].result));
    // Three commands pushed at once: the first starts after the idle-start cycles, the
    // others back to back.
    records.clear();
    wait(sc_time(1, sc_core::SC_US));
    const sc_time t1 = sc_time_stamp();
    for (std::uint32_t c = 1; c < 4; ++c) ASSERT_TRUE(ctrl.try_push({0, 1, c, 4U - c}));
    wait_idle();
    ASSERT_EQ(records.size(), 6U);
    sc_time expect = t1 + cyc(mp::kIdleStartCycles);
    for (const auto& rec : records) {
      EXPECT_EQ(rec.start, expect);
      expect += loop_time(rec.result);
      EXPECT_EQ(rec.end, expect);
    }
    // Every event of the run ends on a clock edge.
    for (const auto& rec : records) {
      const double edges = rec.end.to_seconds() * kMHz * 1e6;
      EXPECT_NEAR(edges, std::round(edges), 1e-6);
    }
    // A command reaching the queue at the very time the last one ended (the tie): it was
    // not queued before, so the controller was idle: the idle-start cycles again, as the
    // RTL's IDLE -> VERIFY and the functional mode's pv_start (arrival >= free).
    const sc_time t_end = records.back().end;
    ASSERT_EQ(sc_time_stamp(), t_end);  // wait_idle returns in the end's time step
    records.clear();
    ASSERT_TRUE(ctrl.try_push({0, 2, 0, 1}));
    wait_idle();
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records[0].start, t_end + cyc(mp::kIdleStartCycles));
    finished = true;
  }
};

}  // namespace

TEST(PvCtrl, ClockedIdleStartAndWholeCycles) {
  mp::PvParams pp;
  ASSERT_EQ(pp.f_clk_MHz, kMHz);  // the default controller clock
  const memplast::device::DeviceParams dp;
  memplast::EnergyLedger ledger;
  mt::TileModule t("tile0", tile_params(), dp, 5, &ledger);
  mp::PvCtrl pv("pv_ctrl", pp, tile_params(), dp, 1);
  Tb tb("tb", t, pv);
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  EXPECT_TRUE(tb.finished);
}
