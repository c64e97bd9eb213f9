// SystemC/TLM-2.0 shell of one crossbar tile: the registers and buffer windows of the
// spec's "tile" block (tile_regs.hpp -> bus/gen/regs.hpp; socket, register bank, window
// dispatch and protocol checks in the bus::Target base),
// one operation at a time, latency from TileCore's cost model, an energy-ledger entry
// per phase. The algorithm lives in TileCore (no SystemC there).
//
// Timing (loosely timed): an access arriving at t = sc_time_stamp() + delay is
// handled at t; a successful access adds one tile-clock cycle (tile.f_clk_MHz) per
// 32-bit word to delay and never waits (bus::Target). A command starts at max(t, end of any
// reservation made with acquire()) and ends after the core's latency; STATUS, the windows and new
// commands are judged against that end. See docs/tile.md.
//
// Programming port (prog_socket, issue 10 item 2; formats in tile/prog_codes.hpp and
// docs/system.md): pv_ctrl's SET pulse (gate DAC code), RESET pulse (amplitude DAC
// code) and verify read of one cell (ADC code returned). A transaction arriving at
// t = sc_time_stamp() + delay reserves the tile (acquire) for the operation's latency
// from TileCore::pulse_cost (tile.t_pulse_ns) or verify_cost, at the first instant
// >= t it is free; the pulse is applied to the device, or the cell read, at the end of
// that reservation, and delay returns as (end - sc_time_stamp()). The energy of the
// operation (the same cost) is charged to the ledger entries ("<name>", "prog_set" /
// "prog_reset" / "prog_verify"). Errors leave the cell and the time untouched.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>
#include "bus/target.hpp"
#include "common/energy.hpp"
#include "common/fault_schedule.hpp"
#include "common/log.hpp"
#include "common/thread_pool.hpp"
#include "sim/irq.hpp"
#include "tile/tile_core.hpp"

namespace memplast::tile {

// Counts and times of the programming port's operations.
struct ProgStats {
  std::uint64_t n_set{0};
  std::uint64_t n_reset{0};
  std::uint64_t n_verify{0};
  std::uint64_t errors{0};                       // transactions refused
  sc_core::sc_time wait{sc_core::SC_ZERO_TIME};  // waiting for the tile to be free
  double energy_J{0};
};

class TileModule : public bus::Target {
 public:
  // The programming port (pv_ctrl's initiator binds here); see above.
  // May stay unbound (a tile tested or used without programming).
  tlm_utils::simple_target_socket_optional<TileModule> prog_socket{"prog_socket"};

  SC_HAS_PROCESS(TileModule);
  // `ledger` may be null (no energy accounting); it must outlive the module.
  TileModule(const sc_core::sc_module_name& name, const TileParams& p,
             const device::DeviceParams& dp, std::uint64_t global_seed, EnergyLedger* ledger);

  ~TileModule() override;
  TileModule(const TileModule&) = delete;
  TileModule& operator=(const TileModule&) = delete;

  // The core, its deferred MVM (if any) finished first.
  TileCore& core() {
    join();
    return core_;
  }
  // Checkpoint (at a batch boundary, no operation pending): registers, the core
  // (devices, noise stream, caches), the buffers and the operation timing.
  void state_io(StateIO& io);

  // Reserve the tile for `duration` from the first instant at or after `now` when it
  // is free; returns that start time. Program-and-verify uses this so that programming
  // and MVMs contend for the tile. A start later than `now` is charged to the ledger's
  // (tile, busy_wait) row as seconds with 0 J (time_s.contention.tile_busy).
  sc_core::sc_time acquire(const sc_core::sc_time& now, const sc_core::sc_time& duration);
  [[nodiscard]] sc_core::sc_time busy_until() const { return busy_until_; }
  // Start and end of the last command started through the registers.
  [[nodiscard]] sc_core::sc_time op_start() const { return op_start_; }
  [[nodiscard]] sc_core::sc_time op_end() const { return op_end_; }

  // Notified at the end of every register-started operation.
  sc_core::sc_event& done_event() { return done_ev_; }
  // Interrupt output: driven with (IRQ_STATUS & IRQ_ENABLE) != 0 on every change.
  sim::IrqOut irq_out{"irq_out"};
  [[nodiscard]] bool irq() const { return irq_level_.get(); }
  // STATUS.BUSY as a signal: high from the start to the end of every register-started
  // operation (MVM, verify read, pulse), driven at those instants (waves.vcd).
  [[nodiscard]] const sc_core::sc_signal<bool>& busy_signal() const { return busy_sig_; }
  [[nodiscard]] const ProgStats& prog_stats() const { return prog_; }
  // Fault injection (faults.adc_sat_rate, faults.adc_sat_at_s): an MVM of this tile gets
  // a saturated ADC (TileCore::inject_adc_saturation, the ADC drawn from stream
  // "<name>.adc_faults" of `seed`) with probability `rate`, and the first MVM starting at
  // or after each time of `at_s`. Call before sc_start.
  void set_adc_fault_injection(double rate, std::vector<double> at_s, std::uint64_t seed);
  [[nodiscard]] std::uint64_t adc_sat_injected() const { return adc_injected_; }
  // Saturated conversions of every MVM since construction (ADC_SAT_TOTAL, not clipped).
  [[nodiscard]] std::uint64_t adc_saturated() {
    join();
    return adc_saturated_;
  }

 private:
  void prog_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  // The MVM a command started runs as a deferred job of the thread pool (mvm_job_);
  // join() waits for it and takes its saturation count. Every access to the tile (bus,
  // programming port), core(), state_io and the destructor join first; on_done too,
  // unless the DONE interrupt is enabled (see on_done).
  void before_access() override { join(); }
  void join();
  // Sets the saturation registers of the MVM that ended (sat_op_ >= 0).
  void apply_sat();
  ThreadPool::JobPtr mvm_job_;
  bool sat_deferred_{false};  // on_done left apply_sat() to join()
  // A physical column of the single-cell operations (PROG_COL, the programming socket's
  // address): < C the G+ (or only) device of weight column pcol, C..2C-1 the G- device of
  // column pcol - C (differential), C the reference column (reference mapping). False
  // when pcol addresses no device.
  bool decode_pcol(std::uint32_t pcol, Side* side, std::uint32_t* col) const;
  // Decode and check a programming transaction; the cell in *row/*col/*side.
  tlm::tlm_response_status prog_check(const tlm::tlm_generic_payload& p, int* row, int* col,
                                      Side* side) const;
  void on_done();
  void drive_busy();
  void bind_col_remap();  // the COL_REMAP register (constructor part)
  void bind_adc_range();  // ADC_RANGE_FWD / ADC_RANGE_TR and the PROFILE window
  void update_irq();
  // Handles a CMD write at time `at`; returns false for an unknown OP (TLM error).
  bool on_cmd(std::uint32_t value, const sc_core::sc_time& at);
  void reject(std::uint32_t err_code, const char* why);
  // `op`: the trace event's name (traces/README.md); `vectors`: input vectors of an MVM.
  void finish_start(const OpCost& cost, const sc_core::sc_time& at, const char* op,
                    std::uint32_t vectors = 0);
  // Handler of the INPUT and OUTPUT windows.
  tlm::tlm_response_status window(const bus::WindowAccess& a);
  [[nodiscard]] bool busy_at(const sc_core::sc_time& at) const { return started_ && at < op_end_; }

  TileParams p_;
  TileCore core_;
  EnergyLedger* ledger_;
  std::array<EnergyLedger::Id, kPhases> energy_ids_{};
  memplast::log::Logger log_;
  sc_core::sc_time clk_;

  std::vector<float> in_buf_;
  std::vector<float> out_buf_;
  std::vector<std::uint32_t> profile_buf_;  // PROFILE window: the last profiling histogram
  std::uint32_t buf_vectors_{0};
  bool started_{false};
  sim::IrqLevel irq_level_;
  sc_core::sc_time busy_until_{sc_core::SC_ZERO_TIME};
  sc_core::sc_time op_start_{sc_core::SC_ZERO_TIME};
  sc_core::sc_time op_end_{sc_core::SC_ZERO_TIME};
  sc_core::sc_event_queue done_q_;  // one entry per operation end (several may be pending)
  sc_core::sc_event done_ev_;
  sc_core::sc_signal<bool> busy_sig_{"busy"};
  sc_core::sc_event_queue busy_q_{"busy_q"};  // an operation's start and end
  ProgStats prog_;
  EnergyLedger::Id e_busy_wait_{0};  // (tile, busy_wait): time, no energy
  EnergyLedger::Id e_prog_set_{0};
  EnergyLedger::Id e_prog_reset_{0};
  EnergyLedger::Id e_prog_verify_{0};
  // ADC saturation: the count of the operation that ends next (-1: not an MVM), the
  // total, and the fault injection.
  std::int64_t sat_op_{-1};
  std::uint64_t adc_saturated_{0};
  memplast::FaultSchedule adc_faults_;  // stream "<name>.adc_faults"
  std::uint64_t adc_injected_{0};
  // Arms the core's ADC saturation for an MVM starting at `start` if a fault hits it.
  void maybe_inject_adc(const sc_core::sc_time& start);
};

}  // namespace memplast::tile
