// SystemC/TLM-2.0 program-and-verify controller (regs::pv_ctrl).
//
// A queue of "program weight (tile, row, col) to level k" commands, filled through the
// register interface (CMD_* then CMD_PUSH) or directly by on-chip producers
// (try_push / space_event, e.g. meta_unit). One SC_THREAD pops the commands in order
// and, for each device of the weight whose target conductance changed (both devices
// of a differential pair the first time a weight is written; pv::plan_weight_write,
// shared with the functional backend), runs the PvFsm in simulated time through the
// tile's programming port (tile_socket[i] -> TileModule::prog_socket; codes and format
// in tile/prog_codes.hpp): every verify read, SET and RESET is one blocking transaction;
// pv_ctrl waits the delay the tile returns (the tile reserves itself, applies the pulse
// or reads the cell at the end of the event, and charges its time and energy), then
// feeds the returned ADC code to the FSM. pv_ctrl holds no device and charges no
// energy: with no contention a device takes exactly n_verify t_verify + (n_set +
// n_reset) t_pulse of the tile (TileCore::verify_cost / pulse_cost); an MVM reserved on
// the tile delays the next event, and an MVM requested while an event runs starts after
// it. The SET ramp's start (set_start = target) comes from the controller's
// calibration: the nominal device law of the device parameters (a one-cell model, never
// programmed).
//
// Registers reflect the state at sc_time_stamp(); an access adds no latency of its
// own (the bus transfer time covers it). Socket, register bank and protocol checks are
// the bus::Target base's; a CMD_PUSH naming a command out of range is refused with
// TLM_COMMAND_ERROR_RESPONSE by a write check before it reaches the queue. Interrupt output: level
// (IRQ_STATUS & IRQ_ENABLE) != 0, driven on the irq_out signal port on every change.
// See docs/pv.md.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>
#include "bus/target.hpp"
#include "common/energy.hpp"
#include "common/log.hpp"
#include "common/rng.hpp"
#include "device/device.hpp"
#include "pv/fault_params.hpp"
#include "pv/pv_algo.hpp"
#include "sim/irq.hpp"
#include "tile/tile_core.hpp"

namespace memplast::pv {

struct PvCommand {
  std::uint32_t tile{0};
  std::uint32_t row{0};
  std::uint32_t col{0};    // weight column; C = the row's reference cell (reference mapping)
  std::uint32_t level{0};  // weight level 0 .. tile.levels-1
  bool force{false};       // program every device of the weight (CMD_PUSH.FORCE)
};

// One device programmed by one P&V loop.
struct PvDeviceRecord {
  PvCommand cmd;
  tile::Side side{tile::Side::pos};
  double target_uS{0};
  PvBand band;
  PvResult result;
  sc_core::sc_time start;  // first verify requested
  sc_core::sc_time end;    // last verify done
};

struct PvCtrlStats {
  std::uint64_t commands{0};       // commands completed (programmed or failed)
  std::uint64_t programmed{0};     // commands with every device inside its band
  std::uint64_t failed{0};         // commands with at least one device at the limit
  std::uint64_t device_writes{0};  // P&V loops run (devices programmed)
  std::uint64_t device_failures{0};
  std::uint64_t n_set{0};
  std::uint64_t n_reset{0};
  std::uint64_t n_verify{0};
  std::uint64_t dropped{0};    // pushes refused because the queue was full
  std::uint64_t refused{0};    // queue-port commands refused (queue full; the producer retries)
  std::uint64_t max_queue{0};  // highest queue occupancy seen
  sc_core::sc_time busy{sc_core::SC_ZERO_TIME};  // time spent on commands
  // Fault injection and recovery support (faults.*, docs/reliability.md).
  std::uint64_t injected_pv_failures{0};  // P&V loops made to fail (faults.pv_fail_*)
  std::uint64_t injected_drops{0};        // commands lost (faults.queue_drop_*)
  std::uint64_t skipped{0};               // commands discarded: weight marked skipped
  std::uint64_t forced{0};                // commands pushed with FORCE
  std::uint64_t fail_log_lost{0};         // failure-log entries lost (log full)
  [[nodiscard]] std::uint64_t pulses() const { return n_set + n_reset; }
};

class PvCtrl : public bus::Target {
 public:
  SC_HAS_PROCESS(PvCtrl);
  // `n_tiles` tiles of parameters `tp` (tile index i of the commands is reached through
  // tile_socket[i]), devices of parameters `dp` (the calibration).
  // `faults` and `seed` (sim.seed): the injected faults, drawn from a stream derived
  // from the seed and "pv_ctrl.faults".
  PvCtrl(const sc_core::sc_module_name& name, const PvParams& p, const tile::TileParams& tp,
         const device::DeviceParams& dp, std::size_t n_tiles, const FaultParams& faults = {},
         std::uint64_t seed = 0);
  // Capacity of the failure log (FAIL_COUNT).
  static constexpr std::size_t kFailLogDepth = 4096;

  // Command-queue target of the point-to-point link (pv.cmd_path = link; see PvLink).
  // The same port through the bus is the CMDQ window of the register target. Format and
  // responses: see the CMDQ window in spec/address_map.json (queue_access).
  tlm_utils::simple_target_socket_optional<PvCtrl> queue_socket{"queue_socket"};
  // Space-available line: driven low when the queue refuses a command (queue full), high
  // when a command next leaves the queue; the producer waits on it.
  sim::IrqOut space_out{"space_out"};

  // One initiator socket per tile, bound to the tile's prog_socket.
  sc_core::sc_vector<tlm_utils::simple_initiator_socket<PvCtrl>> tile_socket;

  // Direct interface for on-chip producers. Throws std::invalid_argument for a command
  // out of range (naming the field); returns false, counts a drop and raises
  // IRQ_STATUS.OVERFLOW when the queue is full.
  bool try_push(const PvCommand& c);
  // Same without the drop accounting: false when full, nothing recorded (a producer
  // that waits on space_event() and retries).
  bool offer(const PvCommand& c);
  [[nodiscard]] bool full() const;
  [[nodiscard]] std::size_t queued() const { return queue_.size(); }
  [[nodiscard]] bool idle() const { return queue_.empty() && !busy_; }
  // Notified when a command leaves the queue (room for one more).
  [[nodiscard]] const sc_core::sc_event& space_event() const { return space_ev_; }
  // Notified when the queue drained and the last command finished.
  [[nodiscard]] const sc_core::sc_event& idle_event() const { return idle_ev_; }

  // Interrupt output (level), driven from the process that changes it.
  sim::IrqOut irq_out{"irq_out"};
  [[nodiscard]] bool irq() const { return irq_level_.get(); }
  // STATUS.BUSY and QUEUE_COUNT as signals (waves.vcd): busy while a command runs, the
  // queue's occupancy after every push and pop.
  [[nodiscard]] const sc_core::sc_signal<bool>& busy_signal() const { return busy_sig_; }
  [[nodiscard]] const sc_core::sc_signal<std::uint32_t, sc_core::SC_UNCHECKED_WRITERS>&
  queue_depth_signal() const {
    return depth_sig_;
  }
  // Called after every device's P&V loop (tests, characterization, traces).
  void set_record_callback(std::function<void(const PvDeviceRecord&)> cb) {
    record_cb_ = std::move(cb);
  }

  // Run every device's loop through `loop` (rtl.pv: the Verilated pv_fsm) instead of
  // PvFsm; the queue, registers, fault injection and statistics stay this module's.
  // Throws cfg::ConfigError naming rtl.pv when the devices are ideal (the RTL has no
  // ideal-device mode). Call before the simulation starts.
  void set_loop(std::unique_ptr<PvLoop> loop);

  [[nodiscard]] const PvCtrlStats& stats() const { return stats_; }
  // Checkpoint (idle: the queue empty): registers, statistics, per-device write counts
  // and levels, the trace batch state.
  void state_io(StateIO& io);
  // P&V loops run per device of tile t, i = row * cols + col: differential, entry 2*i
  // (G+) and 2*i+1 (G-); reference column, entry i (the weight's device) and R*C + row
  // (the reference cell of the row): one entry per device that exists.
  [[nodiscard]] const std::vector<std::uint32_t>& writes_per_device(std::size_t tile) const {
    return writes_.at(tile);
  }
  // Level last programmed into weight (row, col) of tile t, -1 if never.
  [[nodiscard]] int level_of(std::size_t tile, int row, int col) const;

 private:
  struct Entry {
    PvCommand cmd;
    sc_core::sc_time arrival;  // visible to the worker from this time
  };
  struct FailEntry {
    std::uint32_t tile{0}, row{0}, col{0}, cause{0};
  };
  // A command that did not program its weight goes to the failure log (FAIL_*).
  void log_failure(const PvCommand& c, std::uint32_t cause);
  void update_fail_regs();
  // Fault injection: whether the event at time `t` is hit (rate, then the listed times).
  bool inject(double rate, const std::vector<double>& at_s, std::size_t& next,
              const sc_core::sc_time& t);
  [[nodiscard]] std::size_t weight_index(const PvCommand& c) const {
    return static_cast<std::size_t>(c.row) * static_cast<std::size_t>(tp_.cols) +
           static_cast<std::size_t>(c.col);
  }
  void run();
  void execute(const PvCommand& c);
  // A command naming the reference cell of its row (reference mapping, col == C): the
  // cell is programmed to g_ref whatever CMD_LEVEL says (pv::plan_reference_write).
  [[nodiscard]] bool is_reference(const PvCommand& c) const {
    return ref_col_ && c.col == static_cast<std::uint64_t>(tp_.cols);
  }
  void execute_reference(const PvCommand& c);
  // The end of a command: counters, and on failure the LAST_FAIL_* registers, the
  // failure log and the FAIL interrupt.
  void complete(const PvCommand& c, bool ok);
  // Index of the device (c, side) in writes_per_device.
  [[nodiscard]] std::size_t device_slot(const PvCommand& c, tile::Side side) const;
  void queue_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  // A command-queue write of `len` bytes at `at` (link socket or CMDQ window).
  tlm::tlm_response_status queue_access(const unsigned char* data, unsigned len, bool write,
                                        const sc_core::sc_time& at);
  // Program one device; returns its result.
  PvResult program_device(const PvCommand& c, tile::Side side, double target_uS,
                          const PvBand& band);
  // One transaction on tile `t`'s programming port at the current time; waits the
  // returned delay. Returns the data word (the ADC code of a verify). A refused
  // transaction is a model error (the command was range-checked): std::logic_error.
  std::uint32_t prog(std::uint32_t t, tlm::tlm_command cmd, std::uint64_t addr, std::uint32_t word);
  // Trace hooks (no-ops unless a tracer is attached): queue depth counter.
  void trace_queue(const sc_core::sc_time& at);
  // pv_batch: the busy period from the first command after idle to the queue's drain.
  void trace_command_start(const sc_core::sc_time& t0);
  void trace_batch_end();
  [[nodiscard]] std::string check_command(const PvCommand& c) const;
  // The command in CMD_TILE, CMD_ROW, CMD_COL, CMD_LEVEL.
  [[nodiscard]] PvCommand registered_command() const;
  bool push(const PvCommand& c, const sc_core::sc_time& arrival, bool count_drop);
  void raise(std::uint32_t irq_bits);
  void update_irq();
  void update_status();
  void clear_counters();

  PvParams p_;
  FaultParams faults_;
  Rng fault_rng_;
  std::size_t pv_fail_next_{0};  // next faults.pv_fail_at_s entry
  std::size_t drop_next_{0};     // next faults.queue_drop_at_s entry
  std::deque<FailEntry> fail_log_;
  std::vector<std::vector<std::uint8_t>> skip_;  // per tile, per weight: marked skipped
  tile::TileParams tp_;
  bool ref_col_{false};  // tile.mapping = reference_column
  std::size_t n_tiles_;
  device::DeviceArray calib_;  // nominal laws of the devices (gate_for, reset_for)
  // The programming port's payload, reused by prog() (a tlm_generic_payload allocates
  // its extension array when constructed); prog() sets every field it relies on.
  tlm::tlm_generic_payload prog_gp_;
  log::Logger log_;

  std::deque<Entry> queue_;
  bool busy_{false};
  // When the last command ended: a command that reaches the queue at or after it found
  // the controller idle (the RTL pv_fsm pops it from IDLE, kIdleStartCycles later).
  sc_core::sc_time free_at_{sc_core::SC_ZERO_TIME};
  sc_core::sc_event push_ev_;
  sc_core::sc_event space_ev_;
  sc_core::sc_event idle_ev_;
  std::function<void(const PvDeviceRecord&)> record_cb_;
  std::unique_ptr<PvLoop> loop_;  // null: PvFsm
  sim::IrqLevel irq_level_;
  sc_core::sc_signal<bool> busy_sig_{"busy"};
  // Pushed from the producers' processes (host, meta_unit), popped by the worker.
  sc_core::sc_signal<std::uint32_t, sc_core::SC_UNCHECKED_WRITERS> depth_sig_{"queue_depth"};
  bool in_batch_{false};
  bool space_pending_{false};  // a queue-port command was refused since the last pop
  PvCtrlStats batch0_;         // stats at the start of the current busy period (trace pv_batch)

  PvCtrlStats stats_;
  std::vector<std::vector<std::uint32_t>> writes_;
  std::vector<std::vector<std::int8_t>> levels_;
};

}  // namespace memplast::pv
