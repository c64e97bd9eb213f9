// The tile's programming port (TileModule::prog_socket, tile/prog_codes.hpp), issue 10
// item 2: a verify read returns the cell's ADC code; a SET (gate DAC code) raises the
// cell's conductance and a RESET (amplitude DAC code) lowers it, on the addressed
// device (G+ or G- by column); every event takes the tile's own time (verify_cost,
// pulse_cost from tile.t_pulse_ns) and charges its energy to the tile's ledger entries;
// back-to-back events serialize on the tile; malformed transactions get TLM error
// responses and change nothing (no time, no pulse, no energy).
#include <gtest/gtest.h>
#include <systemc>

#include <cmath>
#include <string>

#include "common/energy.hpp"
#include "tile/prog_codes.hpp"
#include "tile/tile_sc.hpp"
#include "tile_tb_util.hpp"

namespace mt = memplast::tile;
namespace pc = memplast::tile::prog;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr int kN = 4;

mt::TileParams tile_params() {
  mt::TileParams p;
  p.rows = kN;
  p.cols = kN;
  return p;
}

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, mt::TileModule& t, memplast::EnergyLedger& l)
      : sc_module(n), ini("ini"), regs("regs"), tile(t), ledger(l) {
    ini.socket.bind(t.prog_socket);
    regs.socket.bind(t.socket);  // the register socket must be bound; unused here
    SC_THREAD(run);
  }
  tile_tb::Initiator ini;
  tile_tb::Initiator regs;
  mt::TileModule& tile;
  memplast::EnergyLedger& ledger;
  bool finished{false};

  double energy(const std::string& phase) {
    double e = 0;
    for (const auto& en : ledger.entries())
      if (en.component == tile.name() && en.operation == phase) e += en.joules;
    return e;
  }
  tlm::tlm_response_status pulse(std::uint32_t row, std::uint32_t pcol, std::uint32_t word,
                                 sc_time& d) {
    return ini.access(tlm::TLM_WRITE_COMMAND, pc::address(row, pcol), &word, 4, d);
  }
  tlm::tlm_response_status verify(std::uint32_t row, std::uint32_t pcol, std::uint32_t& code,
                                  sc_time& d) {
    code = 0xDEADBEEF;
    return ini.access(tlm::TLM_READ_COMMAND, pc::address(row, pcol), &code, 4, d);
  }

  void run() {
    auto& core = tile.core();
    const sc_time tv(core.verify_cost().latency_s, sc_core::SC_SEC);
    const sc_time tp(core.pulse_cost().latency_s, sc_core::SC_SEC);
    const double ev = core.verify_cost().energy_total_J();
    const double ep = core.pulse_cost().energy_total_J();
    EXPECT_EQ(tp, sc_time(100, sc_core::SC_NS));  // tile.t_pulse_ns
    auto& pos = core.array(mt::Side::pos);
    auto& neg = core.array(mt::Side::neg);
    const std::size_t cell = core.cell_index(1, 2);

    // Verify read of a fresh cell: the ADC code of its conductance (read noise).
    sc_time d = sc_core::SC_ZERO_TIME;
    std::uint32_t code = 0;
    ASSERT_EQ(verify(1, 2, code, d), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(d, tv);
    EXPECT_LE(code, pc::kVerifyMax);
    const double g0 = pos.conductance(cell, d.to_seconds());
    EXPECT_NEAR(pc::verify_uS(code), g0, 6 * pos.read_sigma(g0) + pc::kVerifyLsbUs);
    EXPECT_DOUBLE_EQ(energy("prog_verify"), ev);
    wait(d);

    // SET with a 1.3 V gate (code 1300) on G+ of weight (1, 2): conductance up.
    d = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(pulse(1, 2, pc::pulse_word(pc::kOpSet, pc::gate_code(1.3)), d), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(pc::gate_code(1.3), 1300U);
    EXPECT_EQ(d, tp);
    wait(d);
    const double g1 = pos.conductance(cell, sc_time_stamp().to_seconds());
    EXPECT_GT(g1, g0 + 50.0);
    EXPECT_EQ(pos.pulses(cell), 1U);
    EXPECT_EQ(neg.pulses(cell), 0U);
    EXPECT_DOUBLE_EQ(energy("prog_set"), ep);
    // The verify now reads the new conductance.
    d = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(verify(1, 2, code, d), tlm::TLM_OK_RESPONSE);
    EXPECT_NEAR(pc::verify_uS(code), g1, 6 * pos.read_sigma(g1) + pc::kVerifyLsbUs);
    wait(d);
    // RESET at 3.0 V (code 3000): conductance down.
    d = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(pulse(1, 2, pc::pulse_word(pc::kOpReset, pc::amp_code(3.0)), d),
              tlm::TLM_OK_RESPONSE);
    wait(d);
    const double g2 = pos.conductance(cell, sc_time_stamp().to_seconds());
    EXPECT_LT(g2, g1 - 50.0);
    EXPECT_EQ(pos.pulses(cell), 2U);
    EXPECT_DOUBLE_EQ(energy("prog_reset"), ep);
    // Column C + 2 addresses G- of the same weight.
    d = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(pulse(1, kN + 2, pc::pulse_word(pc::kOpSet, 1300), d), tlm::TLM_OK_RESPONSE);
    wait(d);
    EXPECT_EQ(neg.pulses(cell), 1U);
    EXPECT_EQ(pos.pulses(cell), 2U);

    // Two events issued at one instant serialize on the tile.
    sc_time d1 = sc_core::SC_ZERO_TIME;
    sc_time d2 = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(verify(0, 0, code, d1), tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(pulse(0, 0, pc::pulse_word(pc::kOpSet, 900), d2), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(d1, tv);
    EXPECT_EQ(d2, tv + tp);
    wait(d2);
    const auto st = tile.prog_stats();
    EXPECT_EQ(st.n_verify, 3U);
    EXPECT_EQ(st.n_set, 3U);
    EXPECT_EQ(st.n_reset, 1U);
    EXPECT_EQ(st.wait, tv);
    // That wait is the tile's one (busy_wait) ledger row: its seconds, 0 J, not in the
    // energy totals (time_s.contention.tile_busy).
    int busy_rows = 0;
    for (const auto& r : ledger.rows()) {
      if (r.operation != "busy_wait") continue;
      ++busy_rows;
      EXPECT_EQ(r.component, tile.name());
      EXPECT_EQ(r.count, 1U);
      EXPECT_EQ(r.joules, 0.0);
      EXPECT_DOUBLE_EQ(r.seconds, tv.to_seconds());
    }
    EXPECT_EQ(busy_rows, 1);
    for (const auto& en : ledger.entries()) EXPECT_NE(en.operation, "busy_wait");

    // Errors: nothing happens, no time passes.
    const double e_before = energy("prog_set") + energy("prog_reset") + energy("prog_verify");
    const auto pulses_before = pos.pulses(core.cell_index(3, 3));
    auto expect_err = [&](tlm::tlm_response_status got, tlm::tlm_response_status want,
                          const sc_time& dd, const char* what) {
      EXPECT_EQ(got, want) << what;
      EXPECT_EQ(dd, sc_core::SC_ZERO_TIME) << what;
    };
    d = sc_core::SC_ZERO_TIME;
    expect_err(pulse(kN, 0, pc::pulse_word(pc::kOpSet, 1000), d), tlm::TLM_ADDRESS_ERROR_RESPONSE,
               d, "row out of range");
    expect_err(pulse(3, 2 * kN, pc::pulse_word(pc::kOpSet, 1000), d),
               tlm::TLM_ADDRESS_ERROR_RESPONSE, d, "column beyond G-");
    expect_err(verify(0, 2 * kN + 5, code, d), tlm::TLM_ADDRESS_ERROR_RESPONSE, d,
               "verify out of range");
    std::uint32_t w = 0;
    expect_err(ini.access(tlm::TLM_WRITE_COMMAND, pc::address(3, 3) | (1ULL << 32), &w, 4, d),
               tlm::TLM_ADDRESS_ERROR_RESPONSE, d, "high address bits");
    expect_err(pulse(3, 3, pc::pulse_word(3, 1000), d), tlm::TLM_COMMAND_ERROR_RESPONSE, d,
               "unknown op");
    expect_err(pulse(3, 3, pc::pulse_word(0, 1000), d), tlm::TLM_COMMAND_ERROR_RESPONSE, d, "op 0");
    expect_err(pulse(3, 3, pc::pulse_word(pc::kOpSet, pc::kGateMax + 1), d),
               tlm::TLM_COMMAND_ERROR_RESPONSE, d, "gate code beyond 13 bits");
    expect_err(pulse(3, 3, pc::pulse_word(pc::kOpReset, 1000) | (1U << 20), d),
               tlm::TLM_COMMAND_ERROR_RESPONSE, d, "reserved bits");
    expect_err(ini.access(tlm::TLM_IGNORE_COMMAND, pc::address(3, 3), &w, 4, d),
               tlm::TLM_COMMAND_ERROR_RESPONSE, d, "ignore command");
    std::uint32_t two[2] = {pc::pulse_word(pc::kOpSet, 1000), 0};
    expect_err(ini.access(tlm::TLM_WRITE_COMMAND, pc::address(3, 3), two, 8, d),
               tlm::TLM_BURST_ERROR_RESPONSE, d, "8-byte write");
    unsigned char be[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    expect_err(ini.access(tlm::TLM_WRITE_COMMAND, pc::address(3, 3), two, 4, d, be),
               tlm::TLM_BURST_ERROR_RESPONSE, d, "byte enables");
    EXPECT_EQ(pos.pulses(core.cell_index(3, 3)), pulses_before);
    EXPECT_EQ(energy("prog_set") + energy("prog_reset") + energy("prog_verify"), e_before);
    EXPECT_EQ(tile.prog_stats().errors, 11U);
    EXPECT_EQ(tile.prog_stats().n_set, 3U);
    finished = true;
    sc_core::sc_stop();
  }
};

}  // namespace

TEST(TileProg, SetResetVerifyTimeEnergyErrors) {
  memplast::EnergyLedger ledger;
  mt::TileModule t("tile0", tile_params(), memplast::device::DeviceParams{}, 5, &ledger);
  Tb tb("tb", t, ledger);
  sc_core::sc_start(sc_time(1, sc_core::SC_SEC));
  EXPECT_TRUE(tb.finished);
}
