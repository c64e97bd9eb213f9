// Timestamps of tile operations: one MVM with one ADC per column and one with 8
// columns per ADC (two tile instances), back-to-back operations on one tile (a command
// while busy is rejected), a reservation by another module (acquire) delaying an MVM,
// verify read and SET/RESET pulses through the registers, temporal decoupling
// (annotated delay), the done interrupt (level, W1C), and the energy ledger.
#include <gtest/gtest.h>
#include <systemc>

#include "common/energy.hpp"
#include "irq_probe.hpp"
#include "sim/sc_support.hpp"
#include "tile/tile_regs.hpp"
#include "tile/tile_sc.hpp"
#include "tile_tb_util.hpp"

namespace mt = memplast::tile;
namespace rg = memplast::tile::regs;
using memplast::sim::ns;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

// Latency of one read: t_dac + t_settle + (outputs per ADC) * (adc_bits + 2) / f_adc
// = 1 + 10 + n * 50 ns with the defaults.
constexpr double kRead1 = 61.0;   // 1 column per ADC
constexpr double kRead8 = 411.0;  // 8 columns per ADC
const sc_time kClk = ns(10);      // register clock 100 MHz

constexpr std::uint32_t cfg(std::uint32_t n, std::uint32_t enc, bool sgn) {
  return (n << rg::CONFIG_N_VECTORS_SHIFT) | (enc << rg::CONFIG_ENCODING_SHIFT) |
         (sgn ? rg::CONFIG_SIGNED_MASK : 0U);
}

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, mt::TileModule& a, mt::TileModule& b)
      : sc_module(n), ia("ia"), ib("ib"), tile_a(a), tile_b(b) {
    ia.socket.bind(a.socket);
    ib.socket.bind(b.socket);
    SC_THREAD(run);
  }

  void run() {
    std::vector<float> x(128, 0.5F);
    // --- 1 ADC per column (tile a) ---------------------------------------------------
    EXPECT_EQ(ia.write_block(rg::INPUT_OFFSET, x), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(sc_time_stamp(), kClk * 128.0);  // one register-clock cycle per word
    EXPECT_EQ(ia.write32(rg::IRQ_ENABLE, rg::IRQ_ENABLE_DONE_MASK), tlm::TLM_OK_RESPONSE);
    sc_time t_cmd = sc_time_stamp();
    EXPECT_EQ(ia.write32(rg::CMD, rg::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ia.read32(rg::STATUS), rg::STATUS_BUSY_MASK);
    wait(tile_a.done_event());
    EXPECT_EQ(sc_time_stamp(), t_cmd + ns(kRead1));
    tb::settle();
    ASSERT_EQ(irq_a.size(), 1U);
    EXPECT_EQ(irq_a[0], t_cmd + ns(kRead1));
    EXPECT_TRUE(tile_a.irq());
    EXPECT_EQ(ia.read32(rg::STATUS), rg::STATUS_DONE_MASK);
    EXPECT_EQ(ia.read32(rg::IRQ_STATUS), rg::IRQ_STATUS_DONE_MASK);
    EXPECT_EQ(ia.write32(rg::IRQ_STATUS, rg::IRQ_STATUS_DONE_MASK),
              tlm::TLM_OK_RESPONSE);  // W1C lowers the line
    EXPECT_FALSE(tile_a.irq());
    EXPECT_EQ(ia.read32(rg::LAST_LATENCY_NS), 61U);
    EXPECT_EQ(ia.read32(rg::CYCLES_LAST), 7U);  // ceil(61 ns / 10 ns)
    std::vector<float> y(128, -99.0F);
    EXPECT_EQ(ia.read_block(rg::OUTPUT_OFFSET, y), tlm::TLM_OK_RESPONSE);
    for (float v : y) EXPECT_NEAR(v, 0.0F, 0.5F);  // all weights at level 0

    // --- 8 columns per ADC (tile b) ----------------------------------------------------
    EXPECT_EQ(ib.write_block(rg::INPUT_OFFSET, x), tlm::TLM_OK_RESPONSE);
    t_cmd = sc_time_stamp();
    EXPECT_EQ(ib.write32(rg::CMD, rg::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    wait(tile_b.done_event());
    EXPECT_EQ(sc_time_stamp(), t_cmd + ns(kRead8));
    EXPECT_EQ(ib.read32(rg::LAST_LATENCY_NS), 411U);

    // --- back to back on tile b: 2 vectors; a second command while busy is rejected ---
    EXPECT_EQ(ib.write32(rg::CONFIG, cfg(2, 0, false)), tlm::TLM_OK_RESPONSE);
    t_cmd = sc_time_stamp();
    EXPECT_EQ(ib.write32(rg::CMD, rg::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ib.write32(rg::CMD, rg::CMD_OP_MVM_TRANSPOSE),
              tlm::TLM_OK_RESPONSE);  // rejected in STATUS
    EXPECT_EQ(ib.read32(rg::STATUS), rg::STATUS_BUSY_MASK | rg::STATUS_ERROR_MASK |
                                         (rg::STATUS_ERR_CODE_BUSY << rg::STATUS_ERR_CODE_SHIFT));
    EXPECT_EQ(ib.read32(rg::IRQ_STATUS) & rg::IRQ_STATUS_ERROR_MASK, rg::IRQ_STATUS_ERROR_MASK);
    std::vector<float> y2(256);
    EXPECT_EQ(ib.read_block(rg::OUTPUT_OFFSET, y2), tlm::TLM_GENERIC_ERROR_RESPONSE);  // busy
    wait(tile_b.done_event());
    EXPECT_EQ(sc_time_stamp(), t_cmd + ns(2 * kRead8));
    EXPECT_EQ(ib.write32(rg::CMD, rg::CMD_OP_CLEAR_ERROR), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ib.read32(rg::STATUS), rg::STATUS_DONE_MASK);
    // Immediately after: transpose of 2 signed vectors (two phases each).
    EXPECT_EQ(ib.write32(rg::CONFIG, cfg(2, 0, true)), tlm::TLM_OK_RESPONSE);
    t_cmd = sc_time_stamp();
    EXPECT_EQ(ib.write32(rg::CMD, rg::CMD_OP_MVM_TRANSPOSE), tlm::TLM_OK_RESPONSE);
    wait(tile_b.done_event());
    EXPECT_EQ(sc_time_stamp(), t_cmd + ns(4 * kRead8));
    // Bit-serial, unsigned, 1 vector: 8 pulses.
    EXPECT_EQ(ib.write32(rg::CONFIG, cfg(1, rg::CONFIG_ENCODING_BIT_SERIAL, false)),
              tlm::TLM_OK_RESPONSE);
    t_cmd = sc_time_stamp();
    EXPECT_EQ(ib.write32(rg::CMD, rg::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    wait(tile_b.done_event());
    EXPECT_EQ(sc_time_stamp(), t_cmd + ns(8 * kRead8));
    EXPECT_EQ(ib.write32(rg::CONFIG, cfg(1, 0, false)), tlm::TLM_OK_RESPONSE);

    // --- a reservation (e.g. program-and-verify) delays the next MVM -----------------
    const sc_time now = sc_time_stamp();
    EXPECT_EQ(tile_b.acquire(now, ns(1000)), now);
    EXPECT_EQ(tile_b.acquire(now, ns(500)), now + ns(1000));  // queued behind the first
    EXPECT_EQ(ib.write32(rg::CMD, rg::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(tile_b.op_start(), now + ns(1500));
    EXPECT_EQ(ib.read32(rg::STATUS) & rg::STATUS_BUSY_MASK, rg::STATUS_BUSY_MASK);
    wait(tile_b.done_event());
    EXPECT_EQ(sc_time_stamp(), now + ns(1500 + kRead8));

    // --- single-cell operations through the registers (tile a) -----------------------
    // Verify read: t_dac + t_settle + one conversion = 61 ns; G- of weight (3, 4) (PROG_COL
    // C + 4) is at g_off = 5 uS, read sigma 0.3 + 0.01 G = 0.35 uS (bound 6 sigma).
    EXPECT_EQ(ia.write32(rg::PROG_ROW, 3), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ia.write32(rg::PROG_COL, 128 + 4), tlm::TLM_OK_RESPONSE);
    t_cmd = sc_time_stamp();
    EXPECT_EQ(ia.write32(rg::CMD, rg::CMD_OP_VERIFY_READ), tlm::TLM_OK_RESPONSE);
    wait(tile_a.done_event());
    EXPECT_EQ(sc_time_stamp(), t_cmd + ns(61));
    EXPECT_NEAR(static_cast<double>(ia.read32(rg::VERIFY_G_NSIEMENS)), 5000.0, 6 * 350.0);
    // SET pulse: default width 100 ns, then a RESET pulse of an explicit 250 ns.
    EXPECT_EQ(ia.write32(rg::PROG_COL, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ia.write32(rg::PROG_VOLTAGE_MV, 1200), tlm::TLM_OK_RESPONSE);
    const auto pulse = [&](std::uint32_t op, double width_ns, std::uint32_t pulses) {
      const sc_time t0 = sc_time_stamp();
      EXPECT_EQ(ia.write32(rg::CMD, op), tlm::TLM_OK_RESPONSE);
      wait(tile_a.done_event());
      EXPECT_EQ(sc_time_stamp(), t0 + ns(width_ns));
      EXPECT_EQ(tile_a.core().array(mt::Side::pos).pulses(tile_a.core().cell_index(3, 4)), pulses);
    };
    pulse(rg::CMD_OP_SET_PULSE, 100, 1U);
    EXPECT_EQ(ia.write32(rg::PROG_WIDTH_NS, 250), tlm::TLM_OK_RESPONSE);
    pulse(rg::CMD_OP_RESET_PULSE, 250, 2U);

    // --- temporal decoupling: command issued with an annotated delay -----------------
    EXPECT_EQ(ia.write32(rg::IRQ_STATUS, rg::IRQ_STATUS_DONE_MASK), tlm::TLM_OK_RESPONSE);
    sc_time d = ns(250);
    std::uint32_t cmd = rg::CMD_OP_MVM_FWD;
    t_cmd = sc_time_stamp() + d;
    EXPECT_EQ(ia.access(tlm::TLM_WRITE_COMMAND, rg::CMD, &cmd, 4, d), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(d, ns(260));                        // + one register cycle, no wait inside
    EXPECT_EQ(sc_time_stamp(), t_cmd - ns(250));  // time did not advance
    wait(tile_a.done_event());
    EXPECT_EQ(sc_time_stamp(), t_cmd + ns(kRead1));
    // Rising edges: first MVM; verify read (after the W1C; SET and RESET found the line
    // still high); this MVM (after the second W1C).
    tb::settle();
    ASSERT_EQ(irq_a.size(), 3U);
    EXPECT_EQ(irq_a[2], t_cmd + ns(kRead1));
    // Debug access reads state without advancing time.
    std::uint32_t v = 0;
    const sc_time before = sc_time_stamp();
    EXPECT_EQ(ia.debug(tlm::TLM_READ_COMMAND, rg::OP_COUNT, &v, 4), 4U);
    EXPECT_EQ(v, 5U);  // 2 MVMs, a verify read, a SET and a RESET
    EXPECT_EQ(sc_time_stamp(), before);
    finished = true;
  }

  tile_tb::Initiator ia;
  tile_tb::Initiator ib;
  mt::TileModule& tile_a;
  mt::TileModule& tile_b;
  std::vector<sc_time> irq_a;  // rising edges of tile a's interrupt
  bool finished{false};
};

}  // namespace

TEST(TileTiming, MvmTimestampsAdcSharingAndBackToBack) {
  memplast::EnergyLedger ledger;
  mt::TileParams pa;
  pa.cols_per_adc = 1;
  mt::TileParams pb;
  pb.cols_per_adc = 8;
  memplast::device::DeviceParams dp;
  mt::TileModule a("tile0", pa, dp, 1, &ledger);
  mt::TileModule b("tile1", pb, dp, 1, &ledger);
  Tb tb("tb", a, b);
  tb::IrqProbe probe("probe", a.irq_out, [&tb](bool level) {
    if (level) tb.irq_a.push_back(sc_time_stamp());
  });
  sc_core::sc_start();
  EXPECT_TRUE(tb.finished);

  // Ledger: tile0 ran 2 forward MVMs of 1 vector and a verify read (one conversion),
  // tile1 5 operations; the ADC phase charged conversions * FoM * 2^bits each.
  const double e_conv = 50e-15 * 256;
  double adc0 = 0;
  double adc1 = 0;
  std::uint64_t n0 = 0;
  std::uint64_t n1 = 0;
  for (const auto& e : ledger.entries()) {
    if (e.operation != "adc") continue;
    if (e.component == "tile0") {
      adc0 = e.joules;
      n0 = e.count;
    }
    if (e.component == "tile1") {
      adc1 = e.joules;
      n1 = e.count;
    }
  }
  EXPECT_EQ(n0, 3U);
  EXPECT_EQ(n1, 5U);
  EXPECT_NEAR(adc0, (2 * 128 + 1) * e_conv, 1e-15);
  // tile1: 1 + 2 + 2x2 (transpose signed) + 8 (bit-serial) + 1 vectors-reads of 128 outputs.
  EXPECT_NEAR(adc1, (1 + 2 + 4 + 8 + 1) * 128 * e_conv, 1e-14);
}
