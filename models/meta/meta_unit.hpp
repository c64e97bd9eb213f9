// SystemC/TLM-2.0 shell of the metaplasticity unit: the registers and windows of
// spec/address_map.json (block meta_unit), a cycle count set by lanes and SRAM ports,
// energy per operation, and the level-change commands sent to pv_ctrl's command queue
// over TLM (pv_socket, issue 10 item 1), stalling while the queue is full. The
// arithmetic is the plain C++ MetaEngine (meta_core.hpp). See docs/meta.md.
//
// Timing (loosely timed): a successful register/window access at t = sc_time_stamp() +
// delay adds one unit clock per 32-bit word to delay and never waits (bus::Target owns
// the socket, the register bank, the window dispatch and the protocol checks). A CMD write at t
// starts the operation at t (the worker thread is notified with that delay). An operation over n
// weights takes pipeline_depth + ceil(n / lanes) * P cycles (P = 2 with one SRAM port,
// 1 with two), plus, for STEP, the time stalled on a full sink. The level-change command
// of weight i leaves the pipeline at start + (pipeline_depth + (floor(i / lanes) + 1) * P)
// cycles + the stalls so far.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>
#include "bus/target.hpp"
#include "common/energy.hpp"
#include "common/log.hpp"
#include "meta/meta_core.hpp"
#include "meta/meta_cost.hpp"  // op_cycles, ready_cycle: the unit's cycle model
#include "sim/irq.hpp"

namespace memplast::meta {

// One "program weight `weight` to level `level`" command (the unit's flat index).
struct ProgramCommand {
  std::uint32_t weight{0};
  std::int8_t level{0};
};

class MetaUnit : public bus::Target {
 public:
  SC_HAS_PROCESS(MetaUnit);
  // n_weights: the unit's weight memory (N_WEIGHTS must equal it). The hidden weights
  // are initialised U(-init_half_range, init_half_range) from the stream
  // "<name>.init" of global_seed. `ledger` and `sink` may be null (no energy
  // accounting) and must outlive the module. `engine`: the arithmetic of the unit
  // (rtl.meta: the Verilated datapath, models/rtl/rtl_blocks.hpp) of n_weights weights;
  // null: make_engine(p, n_weights).
  MetaUnit(const sc_core::sc_module_name& name, const MetaParams& p, std::size_t n_weights,
           std::uint64_t global_seed, double init_half_range, EnergyLedger* ledger,
           std::unique_ptr<MetaEngine> engine = nullptr);

  // Command port (issue 10 item 1): each level change is one 8-byte TLM write (format of
  // pv_ctrl's CMDQ window: word 0 = tile << 16 | row, word 1 = level << 16 | col) to
  // the address set by set_pv_target (0 over the point-to-point link, pv_ctrl's CMDQ
  // through the bus). OK: sent (the unit waits the returned delay before the next one);
  // TLM_GENERIC_ERROR_RESPONSE: queue full, the pipeline stalls (STATUS.STALLED) until
  // pv_space_in goes high, then resends; any other status is a model error
  // (std::logic_error naming it). Unbound: commands are counted and go nowhere.
  tlm_utils::simple_initiator_socket_optional<MetaUnit> pv_socket{"pv_socket"};
  sim::IrqIn pv_space_in{"pv_space_in"};
  // `energy_J` is charged per command sent to ("<name>", "pv_cmd") (the bus path's
  // energy; the link charges its own).
  void set_pv_target(std::uint64_t address, double energy_J);
  // Cell address of every weight: tile << 32 | row << 16 | col (the layers' placement,
  // loaded at elaboration like an address table). Without one (a unit tested on its
  // own) weight i goes to tile 0, row i >> 16, col i & 0xFFFF.
  void set_cell_map(std::vector<std::uint64_t> map);
  MetaEngine& engine() { return *engine_; }
  // Checkpoint (no operation running): registers, the engine (hidden weights, levels,
  // optimizer state), the GRAD window, the operation and stall timing, the counters.
  void state_io(StateIO& io);
  [[nodiscard]] std::size_t n_weights() const { return n_; }

  // Notified at the end of every operation (DONE); the interrupt output is driven with
  // (IRQ_STATUS & IRQ_ENABLE) != 0 on every change.
  const sc_core::sc_event& done_event() const { return done_ev_; }
  sim::IrqOut irq_out{"irq_out"};
  [[nodiscard]] bool irq() const;
  // Busy (an operation runs) and STATUS.STALLED (STEP waiting on a full sink) as
  // signals (waves.vcd), driven by the worker.
  [[nodiscard]] const sc_core::sc_signal<bool>& busy_signal() const { return busy_sig_; }
  [[nodiscard]] const sc_core::sc_signal<bool>& stalled_signal() const { return stalled_sig_; }

  // Statistics of the unit.
  [[nodiscard]] std::uint64_t commands_sent() const { return commands_sent_; }
  [[nodiscard]] sc_core::sc_time stall_time() const { return stall_total_; }
  [[nodiscard]] sc_core::sc_time last_start() const { return op_start_; }
  [[nodiscard]] sc_core::sc_time last_end() const { return op_end_; }

 private:
  void worker();
  // The trace event name of a CMD.OP (traces/README.md).
  static const char* op_name(std::uint32_t op);
  void on_cmd(std::uint32_t value, const sc_core::sc_time& at);
  void reject(const char* why);
  void finish();
  void update_irq();
  [[nodiscard]] bool busy_at(const sc_core::sc_time& at) const;
  // Handler of the GRAD, HIDDEN and LEVELS windows.
  tlm::tlm_response_status window(const bus::WindowAccess& a);

  MetaParams p_;
  std::size_t n_;
  std::unique_ptr<MetaEngine> engine_;
  EnergyLedger* ledger_;
  // Send one command; false when pv_ctrl's queue refused it (full).
  bool send(const ProgramCommand& c);
  std::uint64_t pv_addr_{0};
  // The command port's payload, reused (a tlm_generic_payload allocates its extension
  // array when constructed); every field send() relies on is set before each use.
  tlm::tlm_generic_payload pv_gp_;
  double pv_cmd_J_{0};
  EnergyLedger::Id e_pv_cmd_{0};
  std::vector<std::uint64_t> cell_map_;
  log::Logger log_;
  sc_core::sc_time clk_;
  std::vector<std::uint32_t> grad_raw_;  // the GRAD window (float32 or s15.16 bits)
  std::vector<float> grad_;
  std::vector<LevelChange> changes_;
  EnergyLedger::Id e_acc_{0}, e_update_{0}, e_sram_{0};
  EnergyLedger::Id e_queue_full_{0};  // (meta_unit, queue_full_wait): stall time, no energy

  std::uint32_t op_{0};
  bool running_{false};    // accepted and not finished (in simulated time)
  bool end_known_{false};  // op_end_ is final (no stall possible)
  bool stalled_{false};
  sim::IrqLevel irq_level_;
  sc_core::sc_time op_start_{sc_core::SC_ZERO_TIME};
  sc_core::sc_time op_end_{sc_core::SC_ZERO_TIME};
  sc_core::sc_time stall_total_{sc_core::SC_ZERO_TIME};
  sc_core::sc_time stall_last_{sc_core::SC_ZERO_TIME};  // of the last STEP
  std::uint64_t commands_sent_{0};
  sc_core::sc_signal<bool> busy_sig_{"busy"};
  sc_core::sc_signal<bool> stalled_sig_{"stalled"};
  sc_core::sc_event start_ev_;
  sc_core::sc_event done_ev_;
};

}  // namespace memplast::meta
