// pv_ctrl: one elaboration, one sc_start, phases in one thread (SystemC allows one
// simulation per process):
//  A  every weight of a healthy 16 x 16 tile (5 levels) lands in band within the limit,
//     fed through try_push/space_event with a queue smaller than the job;
//  B  timestamps of a programming sequence: each device's loop takes exactly
//     n_verify t_verify + (n_set + n_reset) t_pulse of the tile, back to back;
//  C  an MVM requested while a verify runs starts when it ends and delays programming;
//     a programming command issued during an MVM starts when the MVM ends;
//  D  a stuck cell fails at the iteration limit: STATUS.FAIL, IRQ_STATUS.FAIL, the
//     interrupt line, LAST_FAIL_*; the next command in the queue still programs;
//  E  back-pressure: pushes to a full queue are dropped, counted and flagged;
//     out-of-range commands get TLM_COMMAND_ERROR_RESPONSE.
#include <gtest/gtest.h>
#include <systemc>

#include <vector>

#include "bus/gen/regs.hpp"
#include "common/energy.hpp"
#include "irq_probe.hpp"
#include "pv/pv_ctrl.hpp"
#include "sim/sc_support.hpp"
#include "tile/tile_sc.hpp"
#include "tile_tb_util.hpp"

namespace mp = memplast::pv;
namespace mt = memplast::tile;
namespace r = memplast::regs::pv_ctrl;
namespace tr = memplast::regs::tile;
using memplast::sim::ns;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr int kQueueDepth = 4;
constexpr int kMaxIter = 30;

mp::PvParams pv_params() {
  mp::PvParams p;
  p.queue_depth = kQueueDepth;
  p.max_iterations = kMaxIter;
  p.f_clk_MHz = 0;  // unclocked: the events take exactly the tile's latencies (phase B);
                    // the clocked default is tb_pv_clocked's
  return p;
}

mt::TileParams tile_params(int n) {
  mt::TileParams p;
  p.rows = n;
  p.cols = n;
  p.levels = 5;
  return p;
}

// The tile's event durations (its programming port charges them).
sc_time t_verify(mt::TileModule& t) {
  return sc_time(t.core().verify_cost().latency_s, sc_core::SC_SEC);
}
sc_time t_pulse(mt::TileModule& t) {
  return sc_time(t.core().pulse_cost().latency_s, sc_core::SC_SEC);
}
sc_time loop_time(mt::TileModule& t, const mp::PvResult& res) {
  return t_verify(t) * res.n_verify + t_pulse(t) * (res.n_set + res.n_reset);
}

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, const mp::PvParams& pp, mt::TileModule& t0,
     mt::TileModule& t1, mp::PvCtrl& pv)
      : sc_module(n), ipv("ipv"), it0("it0"), it1("it1"), p(pp), tile0(t0), tile1(t1), ctrl(pv) {
    ipv.socket.bind(pv.socket);
    pv.tile_socket[0].bind(t0.prog_socket);
    pv.tile_socket[1].bind(t1.prog_socket);
    it0.socket.bind(t0.socket);
    it1.socket.bind(t1.socket);
    pv.set_record_callback([this](const mp::PvDeviceRecord& rec) { records.push_back(rec); });
    probe = std::make_unique<tb::IrqProbe>(
        "probe", pv.irq_out, [this](bool level) { irq.emplace_back(sc_time_stamp(), level); });
    SC_THREAD(run);
  }

  tile_tb::Initiator ipv;
  tile_tb::Initiator it0;
  tile_tb::Initiator it1;
  mp::PvParams p;
  mt::TileModule& tile0;
  mt::TileModule& tile1;
  mp::PvCtrl& ctrl;
  std::vector<mp::PvDeviceRecord> records;
  std::vector<std::pair<sc_time, bool>> irq;
  std::unique_ptr<tb::IrqProbe> probe;
  bool finished{false};

  void wait_idle() {
    while (!ctrl.idle()) wait(ctrl.idle_event());
  }
  std::uint32_t reg(std::uint32_t off) { return ipv.read32(off); }
  // Push through the registers; the access takes no time (direct binding, no bus).
  tlm::tlm_response_status push_reg(const mp::PvCommand& c, sc_time& delay) {
    std::uint32_t v[5] = {c.tile, c.row, c.col, c.level, 1};
    const std::uint32_t off[5] = {r::CMD_TILE, r::CMD_ROW, r::CMD_COL, r::CMD_LEVEL, r::CMD_PUSH};
    tlm::tlm_response_status st = tlm::TLM_OK_RESPONSE;
    for (int i = 0; i < 5; ++i) {
      st = ipv.access(tlm::TLM_WRITE_COMMAND, off[i], &v[i], 4, delay);
      if (st != tlm::TLM_OK_RESPONSE) return st;
    }
    return st;
  }

  void run() {
    const int L = tile0.core().levels();
    EXPECT_EQ(reg(r::QUEUE_DEPTH), static_cast<std::uint32_t>(kQueueDepth));
    EXPECT_EQ(reg(r::STATUS), r::STATUS_QUEUE_EMPTY_MASK);

    // ---- A: healthy 16 x 16 tile, every weight, producer with back-pressure ----------
    const int n0 = tile0.core().rows();
    for (int rr = 0; rr < n0; ++rr) {
      for (int cc = 0; cc < n0; ++cc) {
        const mp::PvCommand c{0, static_cast<std::uint32_t>(rr), static_cast<std::uint32_t>(cc),
                              static_cast<std::uint32_t>((rr * n0 + cc) % L)};
        while (!ctrl.offer(c)) wait(ctrl.space_event());
      }
    }
    wait_idle();
    ASSERT_EQ(records.size(),
              static_cast<std::size_t>(2 * n0 * n0));  // fresh weights: both devices
    int max_iter = 0;
    for (const auto& rec : records) {
      EXPECT_TRUE(rec.result.success) << "row " << rec.cmd.row << " col " << rec.cmd.col;
      EXPECT_TRUE(rec.band.contains(rec.result.g_final_uS));
      EXPECT_LE(rec.result.iterations, kMaxIter);
      max_iter = std::max(max_iter, rec.result.iterations);
      // The device's noiseless conductance right after its loop: within the band
      // widened by 5 read-noise sigmas (the final verify read is inside the band).
      const auto& dev = tile0.core().array(rec.side);
      const std::size_t cell =
          tile0.core().cell_index(static_cast<int>(rec.cmd.row), static_cast<int>(rec.cmd.col));
      const double g = dev.conductance(cell, rec.end.to_seconds());
      const double tol = 5.0 * dev.read_sigma(g);
      EXPECT_GE(g, rec.band.lo_uS - tol);
      EXPECT_LE(g, rec.band.hi_uS + tol);
    }
    EXPECT_EQ(reg(r::CNT_PROGRAMMED), static_cast<std::uint32_t>(n0 * n0));
    EXPECT_EQ(reg(r::CNT_FAILED), 0U);
    EXPECT_EQ(reg(r::CNT_DEVICE_WRITES), static_cast<std::uint32_t>(2 * n0 * n0));
    EXPECT_EQ(reg(r::CNT_PULSES), static_cast<std::uint32_t>(ctrl.stats().pulses()));
    EXPECT_EQ(reg(r::CNT_DROPPED), 0U);
    EXPECT_EQ(ctrl.stats().max_queue, static_cast<std::uint64_t>(kQueueDepth));
    EXPECT_GT(ctrl.stats().pulses(), 0U);
    for (auto w : ctrl.writes_per_device(0)) EXPECT_EQ(w, 1U);
    EXPECT_EQ(ctrl.level_of(0, 3, 5), (3 * n0 + 5) % L);
    // Reprogramming a weight to its level again programs nothing; to another level
    // programs only the devices whose target changed.
    records.clear();
    ASSERT_TRUE(ctrl.try_push({0, 0, 0, 0}));  // level 0 again
    ASSERT_TRUE(
        ctrl.try_push({0, 0, 1, static_cast<std::uint32_t>(L - 1)}));  // 1 -> L-1: both change
    ASSERT_TRUE(ctrl.try_push({0, 0, 2, static_cast<std::uint32_t>(L - 2)}));  // 2 -> 3: G+ only
    wait_idle();
    ASSERT_EQ(records.size(), 3U);
    EXPECT_EQ(records[0].cmd.col, 1U);
    EXPECT_EQ(records[1].cmd.col, 1U);
    EXPECT_EQ(records[2].cmd.col, 2U);
    EXPECT_EQ(records[2].side, mt::Side::pos);
    std::cout << "[pv] A: " << 2 * n0 * n0 << " devices in band, max iterations " << max_iter
              << ", pulses " << ctrl.stats().pulses() << "\n";

    // ---- B: timestamps of a programming sequence (tile1, no contention) ----------------
    records.clear();
    const sc_time tB = sc_time_stamp();
    sc_time d = sc_core::SC_ZERO_TIME;
    for (std::uint32_t c = 0; c < 3; ++c) {
      EXPECT_EQ(push_reg({1, 0, c, 4U - c}, d), tlm::TLM_OK_RESPONSE);
    }
    EXPECT_EQ(d, sc_core::SC_ZERO_TIME);  // register accesses add no latency
    wait_idle();
    ASSERT_EQ(records.size(), 6U);
    sc_time expect = tB;
    for (const auto& rec : records) {
      EXPECT_EQ(rec.start, expect);
      expect += loop_time(tile1, rec.result);
      EXPECT_EQ(rec.end, expect);
      EXPECT_EQ(rec.result.n_verify, rec.result.iterations + 1);
    }
    EXPECT_EQ(sc_time_stamp(), expect);
    std::cout << "[pv] B: 3 commands took " << (expect - tB).to_string() << "\n";

    // ---- C: MVM vs programming on tile1 ----------------------------------------------------
    std::vector<float> x(static_cast<std::size_t>(tile1.core().rows()), 0.5F);
    EXPECT_EQ(it1.write_block(tr::INPUT_OFFSET, x), tlm::TLM_OK_RESPONSE);
    // C1: programming first, MVM requested in the middle of the first verify.
    records.clear();
    const sc_time tC = sc_time_stamp();
    ASSERT_TRUE(ctrl.try_push({1, 1, 0, 4}));  // fresh weight: G+ to the top, G- verified
    wait(t_verify(tile1) / 2);
    EXPECT_EQ(it1.write32(tr::CMD, tr::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    const sc_time mvm_lat = tile1.op_end() - tile1.op_start();
    EXPECT_GT(mvm_lat, sc_core::SC_ZERO_TIME);
    EXPECT_EQ(tile1.op_start(), tC + t_verify(tile1));  // waits for the running verify
    wait_idle();
    ASSERT_EQ(records.size(), 2U);
    EXPECT_EQ(records[0].start, tC);
    EXPECT_EQ(records[0].end,
              tC + loop_time(tile1, records[0].result) + mvm_lat);  // the MVM cut in
    EXPECT_EQ(records[1].start, records[0].end);
    EXPECT_EQ(records[1].end, records[1].start + loop_time(tile1, records[1].result));
    // C2: MVM first, programming pushed while it runs.
    records.clear();
    const sc_time tM = sc_time_stamp();
    EXPECT_EQ(it1.write32(tr::CMD, tr::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(tile1.op_start(), tM);
    const sc_time tP = sc_time_stamp();  // one register clock later, inside the MVM
    EXPECT_LT(tP, tile1.op_end());
    ASSERT_TRUE(ctrl.try_push({1, 1, 1, 4}));
    wait_idle();
    ASSERT_EQ(records.size(), 2U);
    EXPECT_EQ(records[0].start, tP);
    EXPECT_EQ(records[0].end,
              tile1.op_end() + loop_time(tile1, records[0].result));  // after the MVM
    std::cout << "[pv] C: MVM latency " << mvm_lat.to_string() << "\n";

    // ---- D: stuck cell -> failure, status, interrupt; the queue goes on ---------------------
    records.clear();
    irq.clear();
    ipv.write32(r::CTRL, r::CTRL_CLEAR_MASK);
    ipv.write32(r::IRQ_ENABLE, r::IRQ_ENABLE_FAIL_MASK);
    tile1.core()
        .array(mt::Side::pos)
        .make_stuck(tile1.core().cell_index(3, 3), memplast::device::Stuck::at_hrs,
                    sc_time_stamp().to_seconds());
    d = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(push_reg({1, 3, 3, 4}, d), tlm::TLM_OK_RESPONSE);  // G+ must reach g_on: cannot
    EXPECT_EQ(push_reg({1, 3, 2, 4}, d), tlm::TLM_OK_RESPONSE);  // healthy neighbour
    wait_idle();
    ASSERT_EQ(records.size(), 4U);
    EXPECT_FALSE(records[0].result.success);
    EXPECT_EQ(records[0].result.iterations, kMaxIter);
    EXPECT_TRUE(records[1].result.success);  // G- of the same weight
    EXPECT_TRUE(records[2].result.success);
    EXPECT_TRUE(records[3].result.success);
    EXPECT_EQ(reg(r::STATUS) & r::STATUS_FAIL_MASK, r::STATUS_FAIL_MASK);
    EXPECT_EQ(reg(r::CNT_FAILED), 1U);
    EXPECT_EQ(reg(r::CNT_PROGRAMMED), 1U);
    EXPECT_EQ(reg(r::LAST_FAIL_TILE), 1U);
    EXPECT_EQ(reg(r::LAST_FAIL_ROW), 3U);
    EXPECT_EQ(reg(r::LAST_FAIL_COL), 3U);
    EXPECT_EQ(reg(r::LAST_FAIL_LEVEL), 4U);
    // The failure log holds it (FAIL_*) until the firmware pops it.
    EXPECT_EQ(reg(r::FAIL_COUNT), 1U);
    EXPECT_EQ(reg(r::FAIL_TILE), 1U);
    EXPECT_EQ(reg(r::FAIL_ROW), 3U);
    EXPECT_EQ(reg(r::FAIL_COL), 3U);
    EXPECT_EQ(reg(r::FAIL_CAUSE), r::FAIL_CAUSE_CAUSE_PV_FAILED);
    EXPECT_EQ(reg(r::STATUS) & r::STATUS_FAIL_PENDING_MASK, r::STATUS_FAIL_PENDING_MASK);
    ipv.write32(r::FAIL_POP, 1);
    EXPECT_EQ(reg(r::FAIL_COUNT), 0U);
    EXPECT_EQ(reg(r::STATUS) & r::STATUS_FAIL_PENDING_MASK, 0U);
    EXPECT_EQ(reg(r::IRQ_STATUS) & r::IRQ_STATUS_FAIL_MASK, r::IRQ_STATUS_FAIL_MASK);
    tb::settle();
    ASSERT_EQ(irq.size(), 1U);
    EXPECT_TRUE(irq[0].second);
    EXPECT_EQ(irq[0].first, records[1].end);  // raised when the failed command completed
    EXPECT_TRUE(ctrl.irq());
    ipv.write32(r::IRQ_STATUS, r::IRQ_STATUS_FAIL_MASK | r::IRQ_STATUS_EMPTY_MASK);  // W1C
    EXPECT_EQ(reg(r::IRQ_STATUS), 0U);
    EXPECT_FALSE(ctrl.irq());
    tb::settle();
    ASSERT_EQ(irq.size(), 2U);
    EXPECT_FALSE(irq[1].second);

    // ---- E: back-pressure and bad commands --------------------------------------------------
    irq.clear();
    ipv.write32(r::CTRL, r::CTRL_CLEAR_MASK);
    EXPECT_EQ(reg(r::STATUS) & r::STATUS_FAIL_MASK, 0U);
    ipv.write32(r::IRQ_ENABLE, r::IRQ_ENABLE_OVERFLOW_MASK | r::IRQ_ENABLE_EMPTY_MASK);
    // All pushes at one instant (no wait between them): the worker cannot pop in between.
    d = sc_core::SC_ZERO_TIME;
    for (std::uint32_t c = 0; c < kQueueDepth + 2; ++c) {
      EXPECT_EQ(push_reg({1, 2, c % 4, 1}, d), tlm::TLM_OK_RESPONSE);
    }
    EXPECT_EQ(ctrl.queued(), static_cast<std::size_t>(kQueueDepth));
    std::uint32_t v = 0;
    sc_time d2 = sc_core::SC_ZERO_TIME;
    ipv.access(tlm::TLM_READ_COMMAND, r::STATUS, &v, 4, d2);
    EXPECT_EQ(v & r::STATUS_QUEUE_FULL_MASK, r::STATUS_QUEUE_FULL_MASK);
    ipv.access(tlm::TLM_READ_COMMAND, r::QUEUE_COUNT, &v, 4, d2);
    EXPECT_EQ(v, static_cast<std::uint32_t>(kQueueDepth));
    ipv.access(tlm::TLM_READ_COMMAND, r::CNT_DROPPED, &v, 4, d2);
    EXPECT_EQ(v, 2U);
    EXPECT_FALSE(ctrl.try_push({1, 0, 0, 0}));  // direct interface refused too, and counted
    EXPECT_EQ(ctrl.stats().dropped, 3U);
    tb::settle();
    ASSERT_EQ(irq.size(), 1U);  // overflow raised the line once
    EXPECT_TRUE(irq[0].second);
    EXPECT_EQ(irq[0].first, sc_time_stamp());
    // Out-of-range command: refused with a command error, nothing queued.
    const std::size_t before = ctrl.queued();
    EXPECT_EQ(push_reg({7, 0, 0, 0}, d), tlm::TLM_COMMAND_ERROR_RESPONSE);   // tile 7 of 2
    EXPECT_EQ(push_reg({1, 0, 99, 0}, d), tlm::TLM_COMMAND_ERROR_RESPONSE);  // col 99 of 16
    EXPECT_EQ(push_reg({1, 0, 0, 5}, d), tlm::TLM_COMMAND_ERROR_RESPONSE);   // level 5 of 5
    EXPECT_EQ(ctrl.queued(), before);
    wait_idle();
    EXPECT_EQ(reg(r::CNT_PROGRAMMED) + reg(r::CNT_FAILED), static_cast<std::uint32_t>(kQueueDepth));
    // The three dropped pushes wait in the failure log for the firmware's recovery.
    EXPECT_EQ(reg(r::STATUS), r::STATUS_QUEUE_EMPTY_MASK | r::STATUS_FAIL_PENDING_MASK);
    EXPECT_EQ(reg(r::FAIL_COUNT), 3U);
    EXPECT_EQ(reg(r::FAIL_CAUSE), r::FAIL_CAUSE_CAUSE_DROPPED);
    EXPECT_EQ(reg(r::IRQ_STATUS), r::IRQ_STATUS_OVERFLOW_MASK | r::IRQ_STATUS_EMPTY_MASK);
    finished = true;
    sc_core::sc_stop();
  }
};

}  // namespace

TEST(PvCtrl, QueueTimingContentionFailuresBackpressure) {
  const auto pp = pv_params();
  const memplast::device::DeviceParams dp;
  memplast::EnergyLedger ledger;
  mt::TileModule t0("tile0", tile_params(16), dp, 11, &ledger);
  mt::TileModule t1("tile1", tile_params(16), dp, 11, &ledger);
  mp::PvCtrl pv("pv_ctrl", pp, tile_params(16), dp, 2);
  Tb tb("tb", pp, t0, t1, pv);
  sc_core::sc_start(sc_time(1, sc_core::SC_SEC));
  EXPECT_TRUE(tb.finished);
  // Energy: the tiles charged exactly their per-event energies of pv_ctrl's counts,
  // on their programming-port ledger entries; pv_ctrl charges nothing.
  const auto& s = pv.stats();
  EXPECT_EQ(t0.prog_stats().n_set + t1.prog_stats().n_set, s.n_set);
  EXPECT_EQ(t0.prog_stats().n_reset + t1.prog_stats().n_reset, s.n_reset);
  EXPECT_EQ(t0.prog_stats().n_verify + t1.prog_stats().n_verify, s.n_verify);
  double e = 0;
  for (const auto& en : ledger.entries()) {
    EXPECT_NE(en.component, "pv_ctrl");
    if (en.operation.rfind("prog_", 0) == 0) e += en.joules;
  }
  const double expect = static_cast<double>(s.pulses()) * t0.core().pulse_cost().energy_total_J() +
                        static_cast<double>(s.n_verify) * t0.core().verify_cost().energy_total_J();
  EXPECT_GT(expect, 0);
  EXPECT_NEAR(e, expect, 1e-9 * expect);
}
