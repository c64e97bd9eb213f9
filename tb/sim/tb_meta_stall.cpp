// meta_unit stalls on a full program-command sink: a 2-entry queue drained every
// 205 ns (offset 3 ns) against a 16-lane unit producing many level changes in one
// STEP. Asserts STATUS.STALLED while stalled (and BUSY throughout), no command lost or
// reordered (exactly the reference engine's changes), every push time equal to the one
// an independent replay of the queue gives (ready time + stall so far, or the pop that
// makes room), and the end time = start + cycles + total stall.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "meta_tb_util.hpp"

#include "common/energy.hpp"
#include "common/rng.hpp"
#include "sim/sc_support.hpp"

namespace {

using namespace meta_tb;
namespace mm = memplast::meta;

constexpr std::size_t kN = 512;
constexpr std::size_t kCap = 2;
constexpr std::uint64_t kSeed = 9;
constexpr double kInit = 0.6;

struct Tester : sc_core::sc_module {
  SC_HAS_PROCESS(Tester);
  Tester(const sc_core::sc_module_name& n, mm::MetaUnit& u, TestSink& s, const mm::MetaParams& p)
      : sc_module(n), unit(u), sink(s), params(p), sock("init") {
    sock.bind(unit.socket);
    SC_THREAD(run);
    SC_THREAD(monitor);
  }

  void monitor() {
    Master m(sock);
    while (!done) {
      sc_core::wait(sc_core::sc_time(7, sc_core::SC_NS));
      if (!running) continue;
      const std::uint32_t s = m.read32(R::STATUS);
      if (!running) continue;  // the read may straddle the end
      if ((s & R::STATUS_STALLED_MASK) != 0U) ++stalled_seen;
      if ((s & R::STATUS_BUSY_MASK) == 0U) ++not_busy_while_running;
    }
  }

  void run() {
    Master m(sock);
    memplast::Rng rng(kSeed, "tb.meta.grad");
    std::vector<float> g(kN);
    for (auto& x : g) x = static_cast<float>(rng.normal(0.0, 0.01));
    auto ref = mm::make_fixed(params, kN);
    memplast::Rng init(kSeed, std::string(unit.name()) + ".init");
    ref->init_uniform(init, kInit);
    ref->accumulate(g.data(), kN);
    ref->step(expect);
    ASSERT_GT(expect.size(), 20U);

    ASSERT_EQ(m.access(true, R::GRAD_OFFSET, g.data(), static_cast<unsigned>(kN * 4)),
              tlm::TLM_OK_RESPONSE);
    m.write32(R::CMD, R::CMD_OP_ACCUMULATE);
    sc_core::wait(unit.done_event());
    t_start = sc_core::sc_time_stamp();
    running = true;
    m.write32(R::CMD, R::CMD_OP_STEP);
    // A second command while busy is rejected (STATUS.ERROR), and the STEP goes on.
    m.write32(R::CMD, R::CMD_OP_NEW_TASK);
    EXPECT_NE(m.read32(R::STATUS) & R::STATUS_ERROR_MASK, 0U);
    sc_core::wait(unit.done_event());
    running = false;
    t_end = sc_core::sc_time_stamp();
    EXPECT_EQ(m.read32(R::STATUS) & (R::STATUS_BUSY_MASK | R::STATUS_STALLED_MASK), 0U);
    EXPECT_EQ(m.read32(R::CHANGES_COUNT), expect.size());
    sink.stop = true;
    done = true;
  }

  mm::MetaUnit& unit;
  TestSink& sink;
  mm::MetaParams params;
  tlm_utils::simple_initiator_socket<sc_core::sc_module> sock;
  std::vector<mm::LevelChange> expect;
  sc_core::sc_time t_start;
  sc_core::sc_time t_end;
  bool running{false};
  bool done{false};
  int stalled_seen{0};
  int not_busy_while_running{0};
};

}  // namespace

TEST(MetaUnit, StallsWhileTheSinkIsFull) {
  mm::MetaParams p;
  p.lanes = 16;
  p.sram_ports = 2;
  p.pipeline_depth = 8;
  p.f_clk_MHz = 100.0;
  p.lr = 0.3;
  const sc_core::sc_time period(205, sc_core::SC_NS);
  const sc_core::sc_time offset(3, sc_core::SC_NS);
  TestSink sink("sink", kCap, period, offset);
  memplast::EnergyLedger ledger;
  mm::MetaUnit unit("meta0", p, kN, kSeed, kInit, &ledger);
  sink.bind(unit);
  Tester t("tester", unit, sink, p);
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  ASSERT_TRUE(t.done);

  // Nothing lost or reordered.
  const auto& got = sink.pushed;
  ASSERT_EQ(got.size(), t.expect.size());
  for (std::size_t c = 0; c < got.size(); ++c) {
    EXPECT_EQ(got[c].cmd.weight, t.expect[c].index);
    EXPECT_EQ(got[c].cmd.level, t.expect[c].level);
  }
  EXPECT_GT(sink.refused, 0U);
  EXPECT_GT(t.stalled_seen, 0);
  EXPECT_EQ(t.not_busy_while_running, 0);

  // Replay: command c is ready at start + ready_cycle * clk + stall so far; if the queue
  // (capacity 2) is full then, it goes in at the pop that makes room, and the stall
  // grows by the wait. Pops happen at the drain ticks (3 + 205 k ns) when non-empty.
  const sc_core::sc_time clk = memplast::sim::cycles(1, p.f_clk_MHz);
  sc_core::sc_time stall = sc_core::SC_ZERO_TIME;
  std::vector<sc_core::sc_time> pushes;
  std::vector<sc_core::sc_time> pops;
  sc_core::sc_time next_tick = offset + period;
  std::size_t popped = 0;
  // Advance the drain to time `until` (pops at ticks <= until, only when non-empty).
  auto drain_to = [&](sc_core::sc_time until) {  // by value: called with next_tick
    while (next_tick <= until) {
      const std::size_t queued = pushes.size() - popped;
      const bool nonempty = queued > 0 && pushes[popped] < next_tick;
      if (nonempty) {
        pops.push_back(next_tick);
        ++popped;
      }
      next_tick += period;
    }
  };
  for (const auto& c : t.expect) {
    sc_core::sc_time ready =
        t.t_start + clk * static_cast<double>(mm::ready_cycle(p, c.index)) + stall;
    drain_to(ready);
    sc_core::sc_time at = ready;
    for (int guard = 0; pushes.size() - popped >= kCap; ++guard) {  // full: wait for the next pop
      ASSERT_LT(guard, 100000) << "replay stuck at command " << pushes.size();
      at = next_tick;
      drain_to(next_tick);
    }
    stall += at - ready;
    pushes.push_back(at);
  }
  for (std::size_t c = 0; c < got.size(); ++c) EXPECT_EQ(got[c].at, pushes[c]) << "command " << c;
  EXPECT_GT(stall, sc_core::SC_ZERO_TIME);
  EXPECT_EQ(unit.stall_time(), stall);
  // The stall is in the ledger as (meta0, queue_full_wait) rows: its seconds, 0 J
  // (time_s.contention.pv_queue_full).
  double waited_s = 0;
  std::uint64_t waits = 0;
  for (const auto& r : ledger.rows()) {
    if (r.operation != "queue_full_wait") continue;
    EXPECT_EQ(r.component, "meta0");
    EXPECT_EQ(r.joules, 0.0);
    waited_s += r.seconds;
    waits += r.count;
  }
  EXPECT_GT(waits, 0U);
  EXPECT_NEAR(waited_s, stall.to_seconds(), 1e-9 * stall.to_seconds());
  EXPECT_EQ(t.t_end, t.t_start + clk * static_cast<double>(mm::op_cycles(p, kN)) + stall);
}
