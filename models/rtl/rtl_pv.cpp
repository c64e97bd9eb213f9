// rtl.pv: pv_ctrl's program-and-verify loops on the Verilated pv_fsm (docs/cosim.md).
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "Vpv_fsm.h"
#include "common/schema.hpp"
#include "rtl/clock.hpp"
#include "rtl/pv_fsm_drv.hpp"
#include "rtl/rtl_blocks.hpp"
#include "system/rtl_hooks.hpp"
#include "tile/prog_codes.hpp"
#include "verilated.h"

namespace memplast::rtl {

namespace {

namespace pc = tile::prog;

// The transactor: pv_ctrl's worker hands it one device at a time. It pushes the command
// into the FSM's queue (cmd_valid), then clocks the FSM; each cycle with dev_req starts
// an event, performed through `port` (the tile's programming port, which waits the
// event's simulated time), after which dev_ack (with the ADC code of a verify) is
// given for one clock. The RTL's clock edges take no simulated time of their own: the
// FSM decides in the cycle of the ack, so it adds no cycles inside a command
// (tb/cosim's PvCosim.CycleTable), and the time of a loop is that of its events, as
// with PvFsm.
class RtlPvLoop final : public pv::PvLoop {
 public:
  explicit RtlPvLoop(const pv::PvParams& p) : top_(std::make_unique<Vpv_fsm>(&ctx_, "pv_fsm")) {
    configure_pv_fsm(*top_, p);
    top_->irq_enable = 0;
    top_->clk = 0;
    top_->rst_n = 0;
    top_->eval();
    tick();
    top_->rst_n = 1;
  }

  pv::PvResult run(const pv::PvBand& band, std::uint32_t set_start_code, std::uint32_t addr,
                   const Port& port) override {
    if (top_->busy != 0 || top_->cmd_ready == 0) {
      throw std::logic_error("rtl.pv: pv_fsm is not idle at a new command");
    }
    top_->cmd_valid = 1;
    top_->cmd_addr = addr;
    top_->cmd_lo = static_cast<std::uint16_t>(band.lo_code());
    top_->cmd_hi = static_cast<std::uint16_t>(band.hi_code());
    top_->cmd_set_start = static_cast<std::uint16_t>(set_start_code);
    tick();
    top_->cmd_valid = 0;
    // A loop has at most 2 max_iterations + 1 events; allow generous idle cycles.
    for (std::uint64_t guard = 0; top_->res_valid == 0; ++guard) {
      if (guard > 100'000'000U) throw std::logic_error("rtl.pv: pv_fsm gives no result");
      if (top_->dev_req != 0) {
        if (top_->dev_addr != addr)
          throw std::logic_error(fmt::format("rtl.pv: pv_fsm addresses 0x{:x}, the command 0x{:x}",
                                             top_->dev_addr, addr));
        const auto op = static_cast<Op>(top_->dev_op);
        if (op != Op::verify && op != Op::set && op != Op::reset)
          throw std::logic_error(fmt::format("rtl.pv: pv_fsm requests op {}", top_->dev_op));
        const std::uint32_t adc = port(op, top_->dev_code);
        top_->dev_ack = 1;
        top_->dev_adc = static_cast<std::uint16_t>(adc);
        tick();
        top_->dev_ack = 0;
        top_->dev_adc = 0;
      } else {
        tick();
      }
    }
    pv::PvResult r;
    r.success = top_->res_success != 0;
    r.iterations = top_->res_iterations;
    r.n_set = top_->res_n_set;
    r.n_reset = top_->res_n_reset;
    r.n_verify = top_->res_n_verify;
    r.g_final_uS = pc::verify_uS(top_->res_last_adc);
    tick();  // res_valid falls
    return r;
  }

 private:
  void tick() { clock_cycle(*top_); }
  VerilatedContext ctx_;
  std::unique_ptr<Vpv_fsm> top_;
};

}  // namespace

std::unique_ptr<pv::PvLoop> make_pv_loop(const pv::PvParams& p) {
  if (p.max_iterations > 0xFFFF) {
    throw cfg::ConfigError(fmt::format(
        "key 'rtl.pv': pv_fsm counts iterations in 16 bits; key 'pv.max_iterations' = {} exceeds "
        "65535",
        p.max_iterations));
  }
  if (p.reversal_backoff_steps > 0xFF) {
    throw cfg::ConfigError(
        fmt::format("key 'rtl.pv': pv_fsm's back-off input has 8 bits; key "
                    "'pv.reversal_backoff_steps' = {} exceeds 255",
                    p.reversal_backoff_steps));
  }
  return std::make_unique<RtlPvLoop>(p);
}

void install() { system::set_rtl_blocks({make_meta_engine, make_pv_loop}); }

}  // namespace memplast::rtl
