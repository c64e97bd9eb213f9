// The router's arbitration calendar with hand-placed local times (no quantum keeper):
// a transfer requested ahead in local time reserves its slot; an initiator lagging
// behind still gets an earlier free gap (first fit, no wait), and a request that
// overlaps a reserved slot starts when that slot ends. Delays are asserted exactly, and
// the time ledger's bus rows (occupancy, arbitration wait: the contention time) too.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "bus/router.hpp"
#include "common/energy.hpp"

namespace {
using sc_core::SC_NS;
using sc_core::sc_time;

struct Sink : sc_core::sc_module {
  tlm_utils::simple_target_socket<Sink> socket;
  explicit Sink(const sc_core::sc_module_name& n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &Sink::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& p, sc_time& /*delay*/) {
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

// Issues one 4-byte write per entry of `local` at that local time (after `start_delta`
// delta cycles) and records the returned delay.
struct Issuer : sc_core::sc_module {
  SC_HAS_PROCESS(Issuer);
  tlm_utils::simple_initiator_socket<Issuer> socket;
  Issuer(const sc_core::sc_module_name& n, std::vector<sc_time> local, int start_delta)
      : sc_module(n), socket("socket"), local_(std::move(local)), start_delta_(start_delta) {
    SC_THREAD(run);
  }
  void run() {
    for (int i = 0; i < start_delta_; ++i) wait(sc_core::SC_ZERO_TIME);
    for (const auto& t : local_) {
      std::uint32_t v = 0;
      tlm::tlm_generic_payload p;
      p.set_command(tlm::TLM_WRITE_COMMAND);
      p.set_address(0x100);
      p.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
      p.set_data_length(4);
      p.set_streaming_width(4);
      p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      sc_time d = t;
      socket->b_transport(p, d);
      EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
      ends.push_back(d);
    }
  }
  std::vector<sc_time> ends;

 private:
  std::vector<sc_time> local_;
  int start_delta_;
};
}  // namespace

TEST(BusArbitration, FirstFitCalendar) {
  memplast::bus::BusParams bp;
  bp.f_clk_MHz = 100.0;  // 10 ns cycle; a 4-byte write occupies (2 + 1) * 10 = 30 ns
  bp.cycles_per_transfer = 2;
  bp.width_bytes = 4;
  bp.e_beat_pJ = 1.0;  // per bus cycle (address phase and beats)
  memplast::bus::Router bus("bus", bp);
  memplast::EnergyLedger ledger;
  bus.set_ledger(&ledger);
  // a: one write far ahead at local 1000 ns.
  Issuer a("a", {sc_time(1000, SC_NS)}, 0);
  // b (runs after a): at 0 (fits the gap before a's slot), then at 1010 (overlaps
  // [1000, 1030): starts at 1030), then at 1020 (after its own slot: starts at 1060).
  Issuer b("b", {sc_time(0, SC_NS), sc_time(1010, SC_NS), sc_time(1020, SC_NS)}, 1);
  Sink mem("mem");
  a.socket.bind(bus.target_socket);
  b.socket.bind(bus.target_socket);
  bus.initiator_socket.bind(mem.socket);
  bus.map(0, 0x0, 0x1000, "mem");

  sc_core::sc_start();

  ASSERT_EQ(a.ends.size(), 1U);
  ASSERT_EQ(b.ends.size(), 3U);
  EXPECT_EQ(a.ends[0], sc_time(1030, SC_NS));
  EXPECT_EQ(b.ends[0], sc_time(30, SC_NS));    // gap before a's slot: no wait
  EXPECT_EQ(b.ends[1], sc_time(1060, SC_NS));  // waited 20 ns for a's slot
  EXPECT_EQ(b.ends[2], sc_time(1090, SC_NS));  // waited 40 ns for its own previous slot
  EXPECT_EQ(bus.stats(0).wait, sc_core::SC_ZERO_TIME);
  EXPECT_EQ(bus.stats(1).wait, sc_time(60, SC_NS));
  EXPECT_EQ(bus.stats(1).busy, sc_time(90, SC_NS));
  EXPECT_EQ(bus.stats(1).transfers, 3U);

  // Ledger: 4 writes of 30 ns (3 bus cycles each at bus.e_beat_pJ = 1 pJ: 12 pJ, in the
  // totals too), and the 2 transfers that waited, 60 ns in all, as arbitration_wait
  // (rows only, no energy).
  double written_j = 0;
  for (const auto& e : ledger.entries()) {
    EXPECT_EQ(e.component, "bus");
    if (e.operation == "write") {
      written_j += e.joules;
      EXPECT_EQ(e.count, 4U);
    } else {
      EXPECT_EQ(e.count, 0U) << e.operation;  // the registered read entry: nothing read
    }
  }
  EXPECT_NEAR(written_j, 12e-12, 1e-24);
  const auto rows = ledger.rows();
  ASSERT_EQ(rows.size(), 2U) << ledger.csv();
  EXPECT_EQ(rows[0].component, "bus");
  EXPECT_EQ(rows[0].phase, "other");
  EXPECT_EQ(rows[0].operation, "write");
  EXPECT_EQ(rows[0].count, 4U);
  EXPECT_DOUBLE_EQ(rows[0].seconds, 120e-9);
  EXPECT_NEAR(rows[0].joules, 12e-12, 1e-24);
  EXPECT_EQ(rows[1].operation, "arbitration_wait");
  EXPECT_EQ(rows[1].count, 2U);
  EXPECT_DOUBLE_EQ(rows[1].seconds, (bus.stats(0).wait + bus.stats(1).wait).to_seconds());
}
