// pv_ctrl with the reference-column mapping (tile.mapping = reference_column): one
// elaboration, one sc_start, phases in one thread:
//  A  the reference cells and the weight devices start as fabricated (the device
//     model's g_min), not at g_ref or at the level nearest 0: nothing programs them for
//     free;
//  B  a command with CMD_COL = C (one past the last weight column) programs the
//     reference cell of its row through the tile's programming port like a weight
//     device: verify reads and pulses, in band, back to back in simulated time, with the
//     tile charging the events; the programmed cells carry programming spread and a
//     relaxation offset; so do the initial weights: every weight above the lowest level
//     needs at least one SET from g_min, and the weights at the middle level (g_ref)
//     carry programming spread (before issue 17 they started at exactly g_ref, unpulsed);
//  C  writes_per_device counts the devices that exist: R x C weight devices and R
//     reference cells (not 2 R x C), each written once here;
//  D  a reference cell cannot be marked SKIP; a column beyond C is refused.
#include <gtest/gtest.h>
#include <systemc>

#include <cmath>
#include <vector>

#include "bus/gen/regs.hpp"
#include "common/energy.hpp"
#include "pv/pv_ctrl.hpp"
#include "pv/pv_weight.hpp"
#include "tile/tile_sc.hpp"
#include "tile_tb_util.hpp"

namespace mp = memplast::pv;
namespace mt = memplast::tile;
namespace r = memplast::regs::pv_ctrl;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr int kN = 8;

mt::TileParams tile_params() {
  mt::TileParams p;
  p.rows = kN;
  p.cols = kN;
  p.levels = 3;
  p.mapping = "reference_column";
  return p;
}

sc_time loop_time(mt::TileModule& t, const mp::PvResult& res) {
  return sc_time(t.core().verify_cost().latency_s, sc_core::SC_SEC) * res.n_verify +
         sc_time(t.core().pulse_cost().latency_s, sc_core::SC_SEC) * (res.n_set + res.n_reset);
}

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, const mp::PvParams& pp, mt::TileModule& t0, mp::PvCtrl& pv)
      : sc_module(n), ipv("ipv"), it0("it0"), tile(t0), ctrl(pv), ctrl_params(pp) {
    ipv.socket.bind(pv.socket);
    it0.socket.bind(t0.socket);
    pv.tile_socket[0].bind(t0.prog_socket);
    pv.set_record_callback([this](const mp::PvDeviceRecord& rec) { records.push_back(rec); });
    SC_THREAD(run);
  }

  tile_tb::Initiator ipv;
  tile_tb::Initiator it0;  // the tile's register port (unused; bound)
  mt::TileModule& tile;
  mp::PvCtrl& ctrl;
  mp::PvParams ctrl_params;
  std::vector<mp::PvDeviceRecord> records;
  bool finished{false};

  void wait_idle() {
    while (!ctrl.idle()) wait(ctrl.idle_event());
  }

  void run() {
    const auto& tp = tile.core().params();
    const auto& ref = tile.core().array(mt::Side::ref);
    const double g_ref = mt::reference_uS(tp);
    // ---- A: as fabricated ---------------------------------------------------------------
    for (int row = 0; row < kN; ++row) {
      EXPECT_DOUBLE_EQ(ref.conductance(static_cast<std::size_t>(row), 0.0), ref.params().g_min_uS)
          << "reference cell " << row << " set without programming";
      EXPECT_EQ(ref.pulses(static_cast<std::size_t>(row)), 0U);
    }
    const auto& pos = tile.core().array(mt::Side::pos);
    for (int row = 0; row < kN; ++row) {
      for (int col = 0; col < kN; ++col) {
        const std::size_t cell = tile.core().cell_index(row, col);
        EXPECT_DOUBLE_EQ(pos.conductance(cell, 0.0), pos.params().g_min_uS)
            << "weight (" << row << ", " << col << ") set without programming";
        EXPECT_EQ(pos.pulses(cell), 0U);
      }
    }

    // ---- B: program the reference column, then every weight -------------------------------
    const sc_time t0 = sc_time_stamp();
    for (std::uint32_t row = 0; row < kN; ++row) {
      const mp::PvCommand c{0, row, static_cast<std::uint32_t>(kN), 0};
      while (!ctrl.offer(c)) wait(ctrl.space_event());
    }
    for (std::uint32_t row = 0; row < kN; ++row) {
      for (std::uint32_t col = 0; col < kN; ++col) {
        const mp::PvCommand c{0, row, col, (row + col) % 3};
        while (!ctrl.offer(c)) wait(ctrl.space_event());
      }
    }
    wait_idle();
    ASSERT_EQ(records.size(), static_cast<std::size_t>(kN + kN * kN));
    const auto band = mp::plan_reference_write(tp, ctrl_params).band;
    sc_time expect = t0;
    double sum = 0;
    double sum2 = 0;
    double mid_sum = 0;
    double mid_sum2 = 0;
    int mid_n = 0;
    std::uint64_t ref_pulses = 0;
    for (std::size_t k = 0; k < records.size(); ++k) {
      const auto& rec = records[k];
      EXPECT_EQ(rec.start, expect);  // back to back, each loop its own duration
      expect += loop_time(tile, rec.result);
      EXPECT_EQ(rec.end, expect);
      EXPECT_TRUE(rec.result.success);
      if (k >= static_cast<std::size_t>(kN)) {
        EXPECT_EQ(rec.side, mt::Side::pos);
        if (rec.cmd.level >= 1) {  // above g_min = the lowest level: programmed, not given
          EXPECT_GE(rec.result.n_set + rec.result.n_reset, 1)
              << "initial weight level " << rec.cmd.level << " reached without a pulse";
        }
        if (rec.cmd.level == 1) {  // the middle level, g_ref
          const double g = pos.conductance(
              tile.core().cell_index(static_cast<int>(rec.cmd.row), static_cast<int>(rec.cmd.col)),
              rec.end.to_seconds());
          mid_sum += g;
          mid_sum2 += g * g;
          ++mid_n;
        }
        continue;
      }
      EXPECT_EQ(rec.side, mt::Side::ref);
      EXPECT_EQ(rec.cmd.row, k);
      EXPECT_DOUBLE_EQ(rec.target_uS, g_ref);
      EXPECT_DOUBLE_EQ(rec.band.lo_uS, band.lo_uS);
      EXPECT_DOUBLE_EQ(rec.band.hi_uS, band.hi_uS);
      EXPECT_GE(rec.result.n_set + rec.result.n_reset, 1);  // from g_min: at least one SET
      const auto cell = static_cast<std::size_t>(rec.cmd.row);
      ref_pulses += ref.pulses(cell);
      const double g = ref.conductance(cell, rec.end.to_seconds());
      const double tol = 5.0 * ref.read_sigma(g);
      EXPECT_GE(g, band.lo_uS - tol);
      EXPECT_LE(g, band.hi_uS + tol);
      EXPECT_NE(ref.relax_offset(cell), 0.0F) << "a programmed cell relaxes";
      sum += g;
      sum2 += g * g;
    }
    // Programming spread: the cells are not all at one conductance.
    const double var = sum2 / kN - (sum / kN) * (sum / kN);
    EXPECT_GT(var, 0.01);
    // The initial weights at the middle level carry programming spread too.
    ASSERT_GT(mid_n, 2);
    const double mid_var = mid_sum2 / mid_n - (mid_sum / mid_n) * (mid_sum / mid_n);
    EXPECT_GT(mid_var, 0.01) << "initial middle-level weights all at one conductance";
    std::uint64_t rec_pulses = 0;
    for (std::size_t k = 0; k < static_cast<std::size_t>(kN); ++k)
      rec_pulses += static_cast<std::uint64_t>(records[k].result.n_set + records[k].result.n_reset);
    EXPECT_EQ(ref_pulses, rec_pulses);  // the pulses landed on the reference cells
    // The tile charged every event of the loops (its programming-port counts).
    EXPECT_EQ(tile.prog_stats().n_verify, ctrl.stats().n_verify);
    EXPECT_EQ(tile.prog_stats().n_set + tile.prog_stats().n_reset, ctrl.stats().pulses());
    EXPECT_EQ(ipv.read32(r::CNT_PROGRAMMED), static_cast<std::uint32_t>(kN + kN * kN));

    // ---- C: one write count per device that exists --------------------------------------
    const auto& w = ctrl.writes_per_device(0);
    ASSERT_EQ(w.size(), static_cast<std::size_t>(kN * kN + kN));
    for (auto v : w) EXPECT_EQ(v, 1U);
    // A second push of a reference cell programs it again (a re-verify at least).
    records.clear();
    ASSERT_TRUE(ctrl.try_push({0, 2, static_cast<std::uint32_t>(kN), 1}));
    wait_idle();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].side, mt::Side::ref);
    EXPECT_EQ(w[static_cast<std::size_t>(kN * kN + 2)], 2U);

    // ---- D: refused ----------------------------------------------------------------------
    ipv.write32(r::CMD_TILE, 0);
    ipv.write32(r::CMD_ROW, 1);
    ipv.write32(r::CMD_COL, static_cast<std::uint32_t>(kN));
    sc_time d = sc_core::SC_ZERO_TIME;
    std::uint32_t v = r::SKIP_MARK_MASK;
    EXPECT_EQ(ipv.access(tlm::TLM_WRITE_COMMAND, r::SKIP, &v, 4, d),
              tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_THROW((void)ctrl.try_push({0, 0, static_cast<std::uint32_t>(kN + 1), 0}),
                 std::invalid_argument);
    finished = true;
    sc_core::sc_stop();
  }
};

}  // namespace

TEST(PvCtrl, ReferenceColumnProgrammedLikeAnyColumn) {
  mp::PvParams pp;
  pp.f_clk_MHz = 0;  // unclocked: each loop takes exactly its events' tile latencies
  const memplast::device::DeviceParams dp;
  memplast::EnergyLedger ledger;
  mt::TileModule t0("tile0", tile_params(), dp, 21, &ledger);
  mp::PvCtrl pv("pv_ctrl", pp, tile_params(), dp, 1);
  Tb tb("tb", pp, t0, pv);
  sc_core::sc_start(sc_time(1, sc_core::SC_SEC));
  EXPECT_TRUE(tb.finished);
}
