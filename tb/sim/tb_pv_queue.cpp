// pv_ctrl's command-queue port (issue 10 item 1): a command written through the
// point-to-point link (PvLink -> queue_socket) or through the register target's CMDQ
// window (the bus path) reaches the queue at the initiator's time plus the link
// latency, and is programmed; a full queue answers TLM_GENERIC_ERROR_RESPONSE (nothing
// queued, no drop counted) and drives the space-available line low; the line goes high
// when a command leaves the queue, and the retried command is accepted; malformed and
// out-of-range commands get TLM error responses; the link charges its energy.
#include <gtest/gtest.h>
#include <systemc>

#include <cstdint>

#include "bus/gen/regs.hpp"
#include "common/energy.hpp"
#include "pv/pv_ctrl.hpp"
#include "pv/pv_link.hpp"
#include "sim/irq.hpp"
#include "tile/tile_sc.hpp"
#include "tile_tb_util.hpp"

namespace mp = memplast::pv;
namespace mt = memplast::tile;
namespace r = memplast::regs::pv_ctrl;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr int kDepth = 2;

mt::TileParams tile_params() {
  mt::TileParams p;
  p.rows = 4;
  p.cols = 4;
  return p;
}

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, mp::PvCtrl& c, mp::PvLink& l, mt::TileModule& t)
      : sc_module(n),
        via_link("via_link"),
        via_bus("via_bus"),
        tile_regs("tile_regs"),
        ctrl(c),
        link(l) {
    via_link.socket.bind(l.target_socket);
    l.initiator_socket.bind(c.queue_socket);
    via_bus.socket.bind(c.socket);
    tile_regs.socket.bind(t.socket);
    c.tile_socket[0].bind(t.prog_socket);
    c.space_out.bind(space);
    SC_THREAD(run);
  }
  tile_tb::Initiator via_link;
  tile_tb::Initiator via_bus;
  tile_tb::Initiator tile_regs;
  mp::PvCtrl& ctrl;
  mp::PvLink& link;
  memplast::sim::IrqLine space{"space"};
  bool finished{false};

  static void pack(std::uint32_t* w, std::uint32_t tile, std::uint32_t row, std::uint32_t col,
                   std::uint32_t level) {
    w[0] = (tile << 16) | row;
    w[1] = (level << 16) | col;
  }
  tlm::tlm_response_status link_cmd(std::uint32_t row, std::uint32_t col, std::uint32_t level,
                                    sc_time& d, std::uint32_t tile = 0) {
    std::uint32_t w[2];
    pack(w, tile, row, col, level);
    return via_link.access(tlm::TLM_WRITE_COMMAND, 0, w, 8, d);
  }
  tlm::tlm_response_status bus_cmd(std::uint32_t row, std::uint32_t col, std::uint32_t level,
                                   sc_time& d) {
    std::uint32_t w[2];
    pack(w, 0, row, col, level);
    return via_bus.access(tlm::TLM_WRITE_COMMAND, r::CMDQ_OFFSET, w, 8, d);
  }

  void run() {
    const sc_time lat(5, sc_core::SC_NS);  // pv.link_latency_ns default
    const sc_time t0 = sc_time_stamp();
    sc_time d = sc_core::SC_ZERO_TIME;
    // Through the link: arrives after the link latency.
    ASSERT_EQ(link_cmd(0, 0, 2, d), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(d, lat);
    EXPECT_EQ(ctrl.queued(), 1U);
    // Through the bus window, same instant: fills the queue.
    sc_time db = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(bus_cmd(0, 1, 0, db), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ctrl.queued(), 2U);
    EXPECT_TRUE(ctrl.full());
    // Full: the back-pressure response, nothing queued or dropped, line low.
    sc_time d3 = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(link_cmd(0, 2, 2, d3), tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(bus_cmd(0, 2, 2, db), tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(ctrl.queued(), 2U);
    EXPECT_EQ(ctrl.stats().refused, 2U);
    EXPECT_EQ(ctrl.stats().dropped, 0U);
    wait(sc_core::SC_ZERO_TIME);
    EXPECT_FALSE(space.read());
    // The line rises when the worker pops the first command (at its arrival, t0 + lat).
    wait(space.posedge_event());
    EXPECT_EQ(sc_time_stamp(), t0 + lat);
    EXPECT_FALSE(ctrl.full());
    d3 = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(link_cmd(0, 2, 2, d3), tlm::TLM_OK_RESPONSE);  // the retry is accepted
    // Errors: out of range, wrong length, read, nonzero address.
    d = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(link_cmd(0, 0, 1, d, 5), tlm::TLM_COMMAND_ERROR_RESPONSE);  // tile 5 of 1
    EXPECT_EQ(link_cmd(4, 0, 1, d), tlm::TLM_COMMAND_ERROR_RESPONSE);     // row 4 of 4
    EXPECT_EQ(link_cmd(0, 0, 3, d), tlm::TLM_COMMAND_ERROR_RESPONSE);     // level 3 of 3
    std::uint32_t w[2] = {0, 0};
    EXPECT_EQ(via_link.access(tlm::TLM_WRITE_COMMAND, 0, w, 4, d), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(via_link.access(tlm::TLM_READ_COMMAND, 0, w, 8, d), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(via_link.access(tlm::TLM_WRITE_COMMAND, 8, w, 8, d), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(via_bus.access(tlm::TLM_READ_COMMAND, r::CMDQ_OFFSET, w, 8, d),
              tlm::TLM_COMMAND_ERROR_RESPONSE);  // write-only window
    while (!ctrl.idle()) wait(ctrl.idle_event());
    EXPECT_EQ(ctrl.stats().commands, 3U);
    EXPECT_EQ(ctrl.level_of(0, 0, 0), 2);
    EXPECT_EQ(ctrl.level_of(0, 0, 1), 0);
    EXPECT_EQ(ctrl.level_of(0, 0, 2), 2);
    EXPECT_EQ(link.transfers(), 9U);  // refused and malformed ones included
    finished = true;
    sc_core::sc_stop();
  }
};

}  // namespace

TEST(PvQueue, LinkAndBusPathsBackPressureSpaceLine) {
  mp::PvParams pp;
  pp.f_clk_MHz = 0;  // unclocked: a command starts when it arrives (tb_pv_clocked: clocked)
  pp.queue_depth = kDepth;
  memplast::EnergyLedger ledger;
  mt::TileModule t("tile0", tile_params(), memplast::device::DeviceParams{}, 3, &ledger);
  mp::PvCtrl ctrl("pv_ctrl", pp, tile_params(), memplast::device::DeviceParams{}, 1);
  mp::PvLink link("link", pp, &ledger);
  Tb tb("tb", ctrl, link, t);
  sc_core::sc_start(sc_time(1, sc_core::SC_SEC));
  EXPECT_TRUE(tb.finished);
  double e = 0;
  for (const auto& en : ledger.entries())
    if (en.component == "link") e += en.joules;
  EXPECT_NEAR(e, 9 * pp.link_energy_pJ * 1e-12, 1e-24);
}
