// meta_unit timing: an ACCUMULATE + STEP batch over 1000 weights on units with 1 and
// 16 lanes (two SRAM ports) and 16 lanes with one port. Asserts the end timestamps
// (pipeline_depth + ceil(n / lanes) * P cycles at 100 MHz), the timestamp of every
// program command (weight i leaves at pipeline_depth + (floor(i / lanes) + 1) * P),
// that the commands are exactly the level changes of a reference MetaEngine fed the
// same gradient, and the registers (BUSY, DONE, CHANGES_COUNT, CYCLES_LAST, HIDDEN).
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "meta_tb_util.hpp"

#include "common/rng.hpp"
#include "sim/sc_support.hpp"

namespace {

using namespace meta_tb;
namespace mm = memplast::meta;

constexpr std::size_t kN = 1000;
constexpr double kInit = 0.6;
constexpr std::uint64_t kSeed = 5;

struct Case {
  std::int64_t lanes;
  std::int64_t ports;
  std::uint64_t expect_cycles;  // pipeline 8 + ceil(1000 / lanes) * P, written out
};

struct Tester : sc_core::sc_module {
  SC_HAS_PROCESS(Tester);
  Tester(const sc_core::sc_module_name& n, std::vector<mm::MetaUnit*> u, std::vector<TestSink*> s,
         std::vector<Case> c, std::vector<mm::MetaParams> p)
      : sc_module(n),
        units(std::move(u)),
        sinks(std::move(s)),
        cases(std::move(c)),
        params(std::move(p)) {
    for (std::size_t k = 0; k < units.size(); ++k) {
      sockets.push_back(std::make_unique<tlm_utils::simple_initiator_socket<sc_core::sc_module>>(
          ("init" + std::to_string(k)).c_str()));
      sockets.back()->bind(units[k]->socket);
    }
    SC_THREAD(run);
  }

  void run() {
    memplast::Rng rng(kSeed, "tb.meta.grad");
    std::vector<float> g(kN);
    for (auto& x : g) x = static_cast<float>(rng.normal(0.0, 0.01));
    for (std::size_t k = 0; k < units.size(); ++k) {
      auto& u = *units[k];
      const auto& p = params[k];
      const sc_core::sc_time clk = memplast::sim::cycles(1, p.f_clk_MHz);
      Master m(*sockets[k]);
      // Reference: the same engine, init stream and gradient.
      auto ref = mm::make_fixed(p, kN);
      memplast::Rng init(kSeed, std::string(u.name()) + ".init");
      ref->init_uniform(init, kInit);
      ref->accumulate(g.data(), kN);
      std::vector<mm::LevelChange> expect;
      ref->step(expect);
      ASSERT_GT(expect.size(), 50U) << "the test needs level changes";

      const sc_core::sc_time t_w = sc_core::sc_time_stamp();
      ASSERT_EQ(m.access(true, R::GRAD_OFFSET, g.data(), static_cast<unsigned>(kN * 4)),
                tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(sc_core::sc_time_stamp(),
                t_w + clk * static_cast<double>(kN));  // one clock per word
      m.write32(R::IRQ_ENABLE, R::IRQ_ENABLE_DONE_MASK);

      // ACCUMULATE.
      const sc_core::sc_time t_a = sc_core::sc_time_stamp();
      m.write32(R::CMD, R::CMD_OP_ACCUMULATE);
      EXPECT_EQ(m.read32(R::STATUS) & R::STATUS_BUSY_MASK, R::STATUS_BUSY_MASK);
      sc_core::wait(u.done_event());
      EXPECT_EQ(sc_core::sc_time_stamp(), t_a + clk * static_cast<double>(cases[k].expect_cycles));
      EXPECT_EQ(mm::op_cycles(p, kN), cases[k].expect_cycles);
      EXPECT_TRUE(u.irq());
      EXPECT_EQ(m.read32(R::STATUS) & R::STATUS_BUSY_MASK, 0U);
      EXPECT_EQ(m.read32(R::IRQ_STATUS) & R::IRQ_STATUS_DONE_MASK, R::IRQ_STATUS_DONE_MASK);
      m.write32(R::IRQ_STATUS, R::IRQ_STATUS_DONE_MASK);
      EXPECT_FALSE(u.irq());

      // STEP.
      const sc_core::sc_time t_s = sc_core::sc_time_stamp();
      m.write32(R::CMD, R::CMD_OP_STEP);
      sc_core::wait(u.done_event());
      const sc_core::sc_time t_end = sc_core::sc_time_stamp();
      EXPECT_EQ(t_end, t_s + clk * static_cast<double>(cases[k].expect_cycles))
          << "lanes " << cases[k].lanes;
      EXPECT_EQ(u.stall_time(), sc_core::SC_ZERO_TIME);
      EXPECT_EQ(m.read32(R::CYCLES_LAST), cases[k].expect_cycles);
      EXPECT_EQ(m.read32(R::CHANGES_COUNT), expect.size());
      const auto& got = sinks[k]->pushed;
      ASSERT_EQ(got.size(), expect.size());
      for (std::size_t c = 0; c < expect.size(); ++c) {
        EXPECT_EQ(got[c].cmd.weight, expect[c].index);
        EXPECT_EQ(got[c].cmd.level, expect[c].level);
        EXPECT_EQ(got[c].at, t_s + clk * static_cast<double>(mm::ready_cycle(p, expect[c].index)))
            << "change " << c << " weight " << expect[c].index;
      }
      // The last command leaves no later than the end of the batch.
      EXPECT_LE(got.back().at, t_end);
      // Hidden weights and levels read back through the windows equal the reference.
      std::vector<std::int32_t> hw(kN);
      std::vector<std::int32_t> lw(kN);
      ASSERT_EQ(m.access(false, R::HIDDEN_OFFSET, hw.data(), static_cast<unsigned>(kN * 4)),
                tlm::TLM_OK_RESPONSE);
      ASSERT_EQ(m.access(false, R::LEVELS_OFFSET, lw.data(), static_cast<unsigned>(kN * 4)),
                tlm::TLM_OK_RESPONSE);
      for (std::size_t i = 0; i < kN; ++i) {
        EXPECT_EQ(hw[i], static_cast<std::int32_t>(
                             std::lround(std::ldexp(static_cast<double>(ref->hidden(i)), 13))));
        EXPECT_EQ(lw[i], ref->levels()[i]);
      }
      // FORMAT and the level table (LEVEL_VALUES): what the firmware reads instead of
      // taking them from the model (issue 10 item 4).
      const std::uint32_t fmt = m.read32(R::FORMAT);
      EXPECT_EQ((fmt & R::FORMAT_N_LEVELS_MASK) >> R::FORMAT_N_LEVELS_SHIFT,
                static_cast<std::uint32_t>(p.levels));
      EXPECT_EQ((fmt & R::FORMAT_HIDDEN_FRAC_BITS_MASK) >> R::FORMAT_HIDDEN_FRAC_BITS_SHIFT,
                static_cast<std::uint32_t>(p.hidden_frac_bits));
      EXPECT_EQ((fmt & R::FORMAT_HIDDEN_BITS_MASK) >> R::FORMAT_HIDDEN_BITS_SHIFT,
                static_cast<std::uint32_t>(p.hidden_bits));
      std::vector<float> lv(static_cast<std::size_t>(p.levels));
      ASSERT_EQ(
          m.access(false, R::LEVEL_VALUES_OFFSET, lv.data(), static_cast<unsigned>(lv.size() * 4)),
          tlm::TLM_OK_RESPONSE);
      for (std::size_t q = 0; q < lv.size(); ++q)
        EXPECT_EQ(lv[q], ref->level_value(static_cast<int>(q))) << "level " << q;
      float beyond = 0;
      EXPECT_EQ(m.access(false, R::LEVEL_VALUES_OFFSET + 4 * lv.size(), &beyond, 4),
                tlm::TLM_ADDRESS_ERROR_RESPONSE);  // no level L
      EXPECT_NE(m.access(true, R::LEVEL_VALUES_OFFSET, lv.data(), 4), tlm::TLM_OK_RESPONSE);
      m.write32(R::IRQ_STATUS, R::IRQ_STATUS_DONE_MASK);
    }
    done = true;
  }

  std::vector<mm::MetaUnit*> units;
  std::vector<TestSink*> sinks;
  std::vector<Case> cases;
  std::vector<mm::MetaParams> params;
  std::vector<std::unique_ptr<tlm_utils::simple_initiator_socket<sc_core::sc_module>>> sockets;
  bool done{false};
};

}  // namespace

TEST(MetaUnit, BatchTimestampsFor1And16Lanes) {
  const std::vector<Case> cases{{1, 2, 8 + 1000}, {16, 2, 8 + 63}, {16, 1, 8 + 2 * 63}};
  std::vector<std::unique_ptr<mm::MetaUnit>> units;
  std::vector<std::unique_ptr<TestSink>> sinks;
  std::vector<mm::MetaParams> params;
  for (std::size_t k = 0; k < cases.size(); ++k) {
    mm::MetaParams p;
    p.lanes = cases[k].lanes;
    p.sram_ports = cases[k].ports;
    p.pipeline_depth = 8;
    p.f_clk_MHz = 100.0;
    p.lr = 0.2;  // large steps: many level changes in one batch
    params.push_back(p);
    sinks.push_back(std::make_unique<TestSink>(("sink" + std::to_string(k)).c_str(), 1U << 30U,
                                               sc_core::SC_ZERO_TIME, sc_core::SC_ZERO_TIME));
    units.push_back(std::make_unique<mm::MetaUnit>(("meta" + std::to_string(k)).c_str(), p, kN,
                                                   kSeed, kInit, nullptr));
    sinks.back()->bind(*units.back());
  }
  Tester t("tester", {units[0].get(), units[1].get(), units[2].get()},
           {sinks[0].get(), sinks[1].get(), sinks[2].get()}, cases, params);
  sc_core::sc_start();
  EXPECT_TRUE(t.done);
}
