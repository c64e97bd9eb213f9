// Co-simulation: the Verilated program-and-verify controller (models/rtl/pv_fsm.sv)
// against pv::PvFsm (models/pv/pv_algo.cpp), bit for bit, with the analog device kept in
// C++. The testbench plays the tile's programming port: every verify the RTL requests is
// answered with one ADC code, which is also fed to the C++ FSM of the same command; every
// pulse the RTL then requests must be the C++ FSM's action (SET or RESET, DAC code), and
// every finished command's status (success, iterations, SET/RESET/verify counts, last
// read) must equal PvFsm's result. ADC codes come from a device::DeviceArray (pulses
// applied at the requested codes' voltages) or, for the corner cases, from a seeded
// random stream around the band (reversals, ramps hitting their maxima, the iteration
// limit). The device acknowledges a verify after V cycles and a pulse after P cycles;
// the RTL must then take exactly n_verify V + (n_set + n_reset) P cycles per command,
// the cycle count the TLM model's timing implies (docs/cosim.md prints the table).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "Vpv_fsm.h"
#include "common/rng.hpp"
#include "device/device.hpp"
#include "device/device_params.hpp"
#include "params_util.hpp"
#include "pv/pv_algo.hpp"
#include "pv/pv_params.hpp"
#include "rtl/clock.hpp"
#include "rtl/pv_fsm_drv.hpp"
#include "tile/prog_codes.hpp"
#include "tile/tile_core.hpp"
#include "tile/tile_params.hpp"
#include "verilated.h"

namespace {

namespace pc = memplast::tile::prog;
using memplast::pv::PvFsm;
using memplast::pv::PvParams;

struct Scenario {
  std::string name;
  PvParams p;
  bool device{true};  // ADC codes from a DeviceArray, else random around the band
  int verify_cycles{3};
  int pulse_cycles{5};
  int queue_burst{4};  // commands pushed before the FSM may start
  // The TLM model's event times in cycles (t_verify f, t_pulse f; fractional when the
  // tile's latencies are not whole cycles); 0: verify_cycles and pulse_cycles.
  double tlm_verify{0};
  double tlm_pulse{0};
};

struct Totals {
  std::uint64_t commands{0}, pulses{0}, verifies{0}, failed{0}, reversals{0};
};

class PvCosim {
 public:
  PvCosim(const Scenario& s, std::uint64_t seed)
      : s_(s),
        rng_(seed),
        dev_(memplast::test::validated_defaults<memplast::device::DeviceParams>(), kCells, seed),
        top_(std::make_unique<Vpv_fsm>(&ctx_, "pv_fsm")) {
    const PvParams& p = s_.p;
    memplast::rtl::configure_pv_fsm(*top_, p);
    top_->irq_enable = 3;
    top_->rst_n = 0;
    tick();
    top_->rst_n = 1;
  }

  // Programs `n` cells (random targets on a 11-level grid over the device range).
  void run(int n, Totals& tot) {
    int pushed = 0;
    while (done_ < n) {
      // Queue commands (a burst before the FSM may start, then as room allows).
      if (pushed < n && top_->cmd_ready && (pushed < s_.queue_burst || rng_.uniform(0, 1) < 0.5)) {
        push(static_cast<std::size_t>(pushed) % kCells);
        ++pushed;
      } else {
        top_->cmd_valid = 0;
      }
      device_cycle(tot);
      tick();
      top_->cmd_valid = 0;
      check_result(tot);
      ASSERT_LT(cycle_, 50'000'000U) << s_.name << ": no progress";
      if (::testing::Test::HasFailure()) return;
    }
    tot.commands += static_cast<std::uint64_t>(n);
  }
  [[nodiscard]] std::uint64_t busy_cycles() const { return busy_cycles_; }
  // Summed over the commands: the RTL's cycles from first request to result, and the
  // TLM model's n_verify t_verify + (n_set + n_reset) t_pulse in the same cycles.
  [[nodiscard]] std::uint64_t rtl_cmd_cycles() const { return rtl_cmd_cycles_; }
  [[nodiscard]] double tlm_cmd_cycles() const { return tlm_cmd_cycles_; }
  [[nodiscard]] std::uint64_t expected_cycles() const { return expected_cycles_; }
  // Cycles from a command's cmd_valid to its first request, when the FSM was idle.
  [[nodiscard]] std::uint64_t idle_start_cycles() const { return first_start_; }
  [[nodiscard]] std::uint64_t cycles(int kind) const { return kind_cycles_[kind]; }
  [[nodiscard]] std::uint64_t count(int kind) const { return kind_count_[kind]; }

 private:
  static constexpr std::size_t kCells = 64;
  static constexpr double kGLo = 20.0, kSpacing = 20.0;

  struct Cmd {
    std::size_t cell{0};
    memplast::pv::PvBand band;
    std::unique_ptr<PvFsm> fsm;
    PvFsm::Action next;       // the action after the last verify
    std::uint64_t start{0};   // cycle of its first request
    std::uint64_t events{0};  // cycles of its device events
    bool started{false};
    std::uint64_t pushed{0};  // cycle of its cmd_valid
  };

  void push(std::size_t cell) {
    const PvParams& p = s_.p;
    const double g = kGLo + kSpacing * static_cast<double>(rng_.below(11));
    Cmd c;
    c.cell = cell;
    c.pushed = cycle_;
    c.band = memplast::pv::band_for(g, kSpacing, p);
    const double vg = dev_.gate_for(g);
    c.fsm = std::make_unique<PvFsm>(p, c.band, vg);  // ramped mode (no ideal device)
    // The controller's first SET code (PvFsm's set_start): the calibrated gate voltage
    // less the back-off, or the fixed start.
    const std::uint32_t start = pc::gate_code(
        p.set_start == "target" ? std::clamp(vg - p.v_gate_backoff_V, 0.0, p.v_gate_max_V)
                                : p.v_gate_start_V);
    top_->cmd_valid = 1;
    top_->cmd_addr = static_cast<std::uint32_t>(cell);
    top_->cmd_lo = static_cast<std::uint16_t>(c.band.lo_code());
    top_->cmd_hi = static_cast<std::uint16_t>(c.band.hi_code());
    top_->cmd_set_start = static_cast<std::uint16_t>(start);
    cmds_.push_back(std::move(c));
  }

  std::uint32_t adc_for(Cmd& c) {
    if (s_.device) {
      t_ += 1e-6;
      return pc::verify_code(dev_.read(c.cell, t_));
    }
    // Random codes around the band: 15 % inside, else up to 4 band widths away.
    const auto lo = static_cast<double>(c.band.lo_code());
    const auto hi = static_cast<double>(c.band.hi_code());
    if (rng_.uniform(0, 1) < 0.15) return static_cast<std::uint32_t>(rng_.uniform(lo, hi + 0.999));
    const double w = std::max(hi - lo, 4.0);
    const double x = rng_.uniform(0, 1) < 0.5 ? rng_.uniform(lo - 4 * w, lo - 1)
                                              : rng_.uniform(hi + 1, hi + 4 * w);
    return static_cast<std::uint32_t>(std::clamp(x, 0.0, 65535.0));
  }

  // The device side of one cycle: a new request starts an event (checked against the
  // C++ FSM), the event's last cycle carries the ack.
  void device_cycle(Totals& tot) {
    top_->dev_ack = 0;
    if (top_->dev_req && left_ == 0) {
      kind_ = top_->dev_op;
      left_ = kind_ == 0 ? s_.verify_cycles : s_.pulse_cycles;
      ASSERT_FALSE(cmds_.empty()) << s_.name << ": a request with no command queued";
      Cmd& c = cmds_.front();
      ASSERT_EQ(top_->dev_addr, c.cell) << s_.name;
      if (!c.started) {
        c.started = true;
        c.start = cycle_;
        if (first_start_ == 0) first_start_ = cycle_ - c.pushed;
        // Back to back: a command queued while the one before ran starts the cycle
        // after that one's last ack.
        if (prev_end_ > 0 && c.pushed < prev_end_) {
          EXPECT_EQ(cycle_, prev_end_ + 1) << s_.name;
        }
      }
      c.events += static_cast<std::uint64_t>(kind_ == 0 ? s_.verify_cycles : s_.pulse_cycles);
      if (kind_ == 0) {
        adc_ = adc_for(c);
        const PvFsm::Action prev = c.next;
        c.next = c.fsm->on_verify_code(adc_);
        ++tot.verifies;
        const bool rev = (prev.kind == PvFsm::Kind::set && c.next.kind == PvFsm::Kind::reset) ||
                         (prev.kind == PvFsm::Kind::reset && c.next.kind == PvFsm::Kind::set);
        tot.reversals += rev ? 1 : 0;
      } else {
        const auto want =
            c.next.kind == PvFsm::Kind::set ? 1U : (c.next.kind == PvFsm::Kind::reset ? 2U : 0U);
        ASSERT_EQ(static_cast<unsigned>(kind_), want) << s_.name << " cell " << c.cell;
        ASSERT_EQ(top_->dev_code, c.next.code)
            << s_.name << " cell " << c.cell << " pulse " << tot.pulses;
        ++tot.pulses;
        t_ += 1e-6;
        if (kind_ == 1)
          dev_.set_pulse(c.cell, pc::gate_volts(top_->dev_code), t_);
        else
          dev_.reset_pulse(c.cell, pc::amp_volts(top_->dev_code), t_);
      }
      kind_cycles_[kind_] += static_cast<std::uint64_t>(left_);
      ++kind_count_[kind_];
      expected_cycles_ += static_cast<std::uint64_t>(left_);
    }
    if (left_ > 0) {
      --left_;
      if (left_ == 0) {
        top_->dev_ack = 1;
        top_->dev_adc = static_cast<std::uint16_t>(kind_ == 0 ? adc_ : 0);
      }
    }
  }

  void check_result(Totals& tot) {
    if (!top_->res_valid) return;
    ASSERT_FALSE(cmds_.empty());
    Cmd& c = cmds_.front();
    const auto& r = c.fsm->result();
    ASSERT_TRUE(c.fsm->done()) << s_.name << ": RTL finished a command PvFsm has not";
    EXPECT_EQ(top_->res_success, r.success ? 1 : 0) << s_.name;
    EXPECT_EQ(top_->res_iterations, r.iterations) << s_.name;
    EXPECT_EQ(top_->res_n_set, r.n_set) << s_.name;
    EXPECT_EQ(top_->res_n_reset, r.n_reset) << s_.name;
    EXPECT_EQ(top_->res_n_verify, r.n_verify) << s_.name;
    EXPECT_EQ(top_->res_last_adc, pc::verify_code(r.g_final_uS)) << s_.name;
    EXPECT_EQ(top_->res_addr, c.cell);
    if (!r.success) {
      ++tot.failed;
      EXPECT_TRUE(top_->irq_status & 2U) << s_.name << ": FAIL interrupt";
      EXPECT_TRUE(top_->irq) << s_.name;
    }
    // The command took exactly its device events' cycles (no controller overhead).
    EXPECT_EQ(cycle_ - c.start, c.events) << s_.name << " cell " << c.cell;
    rtl_cmd_cycles_ += cycle_ - c.start;
    // The TLM model's time of the loop (pv_ctrl waits each event's tile latency), with
    // the event times in cycles.
    const memplast::pv::PvCosts costs{s_.tlm_verify > 0 ? s_.tlm_verify : s_.verify_cycles,
                                      s_.tlm_pulse > 0 ? s_.tlm_pulse : s_.pulse_cycles, 0, 0};
    tlm_cmd_cycles_ += memplast::pv::pv_duration_s(costs, r.n_set, r.n_reset, r.n_verify);

    prev_end_ = cycle_ - 1;
    top_->irq_clear = 3;
    cmds_.pop_front();
    ++done_;
  }

  void tick() {
    memplast::rtl::clock_cycle(*top_);
    busy_cycles_ += top_->busy ? 1 : 0;
    top_->irq_clear = 0;
    ++cycle_;
  }

  Scenario s_;
  memplast::Rng rng_;
  memplast::device::DeviceArray dev_;
  VerilatedContext ctx_;
  std::unique_ptr<Vpv_fsm> top_;
  std::deque<Cmd> cmds_;
  int done_{0};
  int left_{0};
  std::uint8_t kind_{0};
  std::uint32_t adc_{0};
  double t_{0};
  std::uint64_t cycle_{0};
  std::uint64_t busy_cycles_{0};
  std::uint64_t expected_cycles_{0};
  std::uint64_t prev_end_{0};
  std::uint64_t first_start_{0};
  std::uint64_t rtl_cmd_cycles_{0};
  double tlm_cmd_cycles_{0};
  std::uint64_t kind_cycles_[3]{};
  std::uint64_t kind_count_[3]{};
};

PvParams pv_defaults() { return memplast::test::validated_defaults<PvParams>(); }

std::vector<Scenario> scenarios() {
  std::vector<Scenario> v;
  v.push_back({"device, defaults", pv_defaults(), true, 3, 5, 4});
  {
    Scenario s{"device, fixed start, no back-off", pv_defaults(), true, 1, 1, 1};
    s.p.set_start = "fixed";
    s.p.reversal_backoff_steps = 0;
    v.push_back(s);
  }
  {
    Scenario s{"device, large steps, back-off 5", pv_defaults(), true, 2, 7, 4};
    s.p.v_gate_step_V = 0.05;
    s.p.v_reset_step_V = 0.1;
    s.p.reversal_backoff_steps = 5;
    v.push_back(s);
  }
  {
    Scenario s{"random codes, defaults", pv_defaults(), false, 1, 2, 4};
    v.push_back(s);
  }
  {
    Scenario s{"random codes, iteration limit 3", pv_defaults(), false, 2, 1, 4};
    s.p.max_iterations = 3;
    v.push_back(s);
  }
  {
    Scenario s{"random codes, ramps capped", pv_defaults(), false, 1, 1, 4};
    s.p.set_start = "fixed";
    s.p.v_gate_max_V = 0.75;
    s.p.v_reset_max_V = 1.3;
    s.p.max_iterations = 40;
    s.p.reversal_backoff_steps = 1;
    v.push_back(s);
  }
  return v;
}

TEST(PvCosim, RtlMatchesPvFsmBitForBit) {
  Totals tot;
  std::uint64_t seed = 1312;
  for (const Scenario& s : scenarios()) {
    PvCosim sim(s, seed++);
    sim.run(400, tot);
    if (HasFailure()) return;
    EXPECT_EQ(static_cast<double>(sim.rtl_cmd_cycles()), sim.tlm_cmd_cycles()) << s.name;
    std::printf("  %-36s RTL %8llu cycles, TLM %8.0f cycles (commands, V = %d, P = %d)\n",
                s.name.c_str(), static_cast<unsigned long long>(sim.rtl_cmd_cycles()),
                sim.tlm_cmd_cycles(), s.verify_cycles, s.pulse_cycles);
  }
  std::printf(
      "pv_fsm co-simulation: %llu commands, %llu verifies, %llu pulses (%llu "
      "reversals), %llu commands at the iteration limit; RTL == PvFsm bit for bit\n",
      static_cast<unsigned long long>(tot.commands), static_cast<unsigned long long>(tot.verifies),
      static_cast<unsigned long long>(tot.pulses), static_cast<unsigned long long>(tot.reversals),
      static_cast<unsigned long long>(tot.failed));
  EXPECT_GT(tot.pulses, 1000U);
  EXPECT_GT(tot.reversals, 100U);
  EXPECT_GT(tot.failed, 10U);
}

// (c) Cycle counts per operation type: the tile's default verify and pulse latencies
// (TileCore::verify_cost, tile.t_pulse_ns) at a controller clock f. The RTL waits whole
// cycles for each device event (ceil(t f)). The TLM model either times the events
// exactly (pv.f_clk_MHz = 0, unclocked) or, clocked at the RTL's clock (pv.f_clk_MHz =
// f; the default is 100 MHz), rounds each event up to whole cycles with pv::clocked and
// starts a command that reaches an idle controller pv::kIdleStartCycles later (what
// pv_ctrl and the functional mode do): then it must equal the RTL exactly.
TEST(PvCosim, CycleTable) {
  const auto tp = memplast::test::validated_defaults<memplast::tile::TileParams>();
  const auto dp = memplast::test::validated_defaults<memplast::device::DeviceParams>();
  const memplast::tile::TileCore tile(tp, dp, 1, "tile0");
  const memplast::pv::PvCosts exact{tile.verify_cost().latency_s, tile.pulse_cost().latency_s, 0,
                                    0};
  std::printf(
      "| f_clk | operation | count | TLM cycles, pv.f_clk_MHz = 0 | TLM cycles, pv.f_clk_MHz = "
      "f_clk | RTL cycles | RTL - TLM (0) | RTL - TLM (f_clk) |\n"
      "|---|---|---|---|---|---|---|---|\n");
  for (double f : {100e6, 1e9}) {
    const double mhz = f / 1e6;
    const memplast::pv::PvCosts clk = memplast::pv::clocked(exact, mhz);
    Scenario s{"device, defaults", pv_defaults(), true, 0, 0, 4};
    s.tlm_verify = exact.t_verify_s * f;
    s.tlm_pulse = exact.t_pulse_s * f;
    s.verify_cycles = static_cast<int>(std::ceil(s.tlm_verify - 1e-9));
    s.pulse_cycles = static_cast<int>(std::ceil(s.tlm_pulse - 1e-9));
    PvCosim sim(s, 77);
    Totals tot;
    sim.run(400, tot);
    ASSERT_FALSE(HasFailure());
    const double v_clk = clk.t_verify_s * f;
    const double p_clk = clk.t_pulse_s * f;
    const auto pct = [](double rtl, double tlm) {
      const double d = 100.0 * (rtl - tlm) / tlm;
      return std::abs(d) < 0.05 ? 0.0 : d;
    };
    auto row = [&](const char* op, std::uint64_t n, double tlm0, double tlmf, double rtl) {
      std::printf("| %.0f MHz | %s | %llu | %.1f | %.1f | %.0f | %+.1f %% | %+.1f %% |\n", mhz, op,
                  static_cast<unsigned long long>(n), tlm0, tlmf, rtl, pct(rtl, tlm0),
                  pct(rtl, tlmf));
    };
    row("verify (per event)", sim.count(0), s.tlm_verify, v_clk, s.verify_cycles);
    row("SET pulse (per event)", sim.count(1), s.tlm_pulse, p_clk, s.pulse_cycles);
    row("RESET pulse (per event)", sim.count(2), s.tlm_pulse, p_clk, s.pulse_cycles);
    const double tlm_clocked = static_cast<double>(sim.count(0)) * v_clk +
                               static_cast<double>(sim.count(1) + sim.count(2)) * p_clk;
    row("P&V command (all, summed)", tot.commands, sim.tlm_cmd_cycles(), tlm_clocked,
        static_cast<double>(sim.rtl_cmd_cycles()));
    const double idle_clk = memplast::pv::idle_start_s(mhz) * f;
    std::printf(
        "| %.0f MHz | command start from idle (cmd_valid to first verify) | 1 | 0 | %.0f | %llu "
        "| | %+.1f %% |\n",
        mhz, idle_clk, static_cast<unsigned long long>(sim.idle_start_cycles()),
        pct(static_cast<double>(sim.idle_start_cycles()), idle_clk));
    EXPECT_DOUBLE_EQ(static_cast<double>(sim.idle_start_cycles()), idle_clk);
    // The clocked TLM model equals the RTL, per event type and summed over the commands.
    EXPECT_DOUBLE_EQ(v_clk, s.verify_cycles);
    EXPECT_DOUBLE_EQ(p_clk, s.pulse_cycles);
    EXPECT_EQ(static_cast<double>(sim.rtl_cmd_cycles()), std::round(tlm_clocked));
    EXPECT_NEAR(tlm_clocked, std::round(tlm_clocked), 1e-6);
    // Whole-cycle event times: the unclocked TLM model equals the RTL exactly too.
    if (std::abs(s.tlm_verify - s.verify_cycles) < 1e-9 &&
        std::abs(s.tlm_pulse - s.pulse_cycles) < 1e-9) {
      EXPECT_EQ(static_cast<double>(sim.rtl_cmd_cycles()), std::round(sim.tlm_cmd_cycles()));
    }
  }
}

}  // namespace
