// The host: a TLM initiator thread that runs the firmware through the HAL.
//
// The SC_THREAD calls the firmware entry point once with this module as its Hal.
// Every HAL call is one or more generic-payload transactions on `socket`, issued at
// the host's local time (tlm_utils::tlm_quantumkeeper, global quantum host.quantum_ns):
// the annotated delay returned by the bus and target advances the local time, and the
// thread synchronizes when the quantum is used up. Host computation is charged by an
// operation-count model:  t = ops / (ops_per_cycle * f_clk)  (charge_compute),
// t = macs / (macs_per_cycle * f_clk)  (charge_macs), t = cycles / f_clk  (advance). Interrupts are
// level-sensitive lines 0..31, the signal ports irq_in[0..31] (unbound lines stay low); wait_irq()
// synchronizes and waits on an sc_event notified when a line changes.
//
// Lazy synchronization (host.lazy_sync, default on): when the quantum is used up during a
// block transfer or a compute charge and the kernel has nothing pending up to the host's
// local time, the sync is skipped (no process could run in between, so none can tell),
// and the quantum is re-armed from the skipped point as sync() would have. Before
// anything another process could react to (a single-word register access, irq_lines,
// wait_irq, a checkpoint) the host first waits to the last skipped point, so every
// register access arrives with the same sc_time_stamp() and delay as with a sync at
// every quantum, and block-transfer bursts with the same sc_time_stamp() + delay: the
// outputs are identical (tb/regress/check_lazy_sync.py; docs/bus.md).
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>
#include <systemc>
#include <tlm>

#include "bus/host_params.hpp"
#include "common/energy.hpp"
#include "common/log.hpp"
#include "common/state_io.hpp"
#include "sim/irq.hpp"
#include "sw/hal/hal.hpp"
#include "trace/probe.hpp"

namespace memplast::bus {

// tlm::tlm_response_status as the HAL's Response.
hal::Response to_hal(tlm::tlm_response_status s);

// tlm_quantumkeeper that can be re-armed as if it had synchronized at a given time.
class QuantumKeeper : public tlm_utils::tlm_quantumkeeper {
 public:
  // The next sync point a sync() ending at `at` would set: the first multiple of the
  // global quantum after `at` (tlm_global_quantum::compute_local_quantum at `at`).
  void rearm_at(const sc_core::sc_time& at) {
    const sc_core::sc_time& q = get_global_quantum();
    m_next_sync_point = q == sc_core::SC_ZERO_TIME ? at : at + (q - (at % q));
  }
};

class Host : public sc_core::sc_module, public hal::Hal {
 public:
  using Firmware = std::function<void(hal::Hal&)>;
  SC_HAS_PROCESS(Host);

  tlm_utils::simple_initiator_socket<Host> socket;
  // The core's own port to host memory (bind to HostMemory::cpu_socket; may stay
  // unbound): DMI only, host_memory() hands out pointers into it.
  tlm_utils::simple_initiator_socket_optional<Host> mem_socket;
  sc_core::sc_vector<sim::IrqIn> irq_in;  // interrupt lines 0..31

  // stop_when_done: call sc_stop() when the firmware returns (or throws), so the run
  // ends even if other modules still have pending events.
  Host(const sc_core::sc_module_name& name, const HostParams& p, Firmware firmware,
       bool stop_when_done = false);

  [[nodiscard]] bool finished() const { return finished_; }
  // The exception that ended the firmware, if any (a HalError it did not catch, ...).
  [[nodiscard]] std::exception_ptr error() const { return error_; }
  // Simulated time at which the firmware returned (its local time).
  [[nodiscard]] sc_core::sc_time finish_time() const { return finish_time_; }
  // The interrupt mask the firmware is blocked on, 0 if none (for diagnosing a hang).
  [[nodiscard]] std::uint32_t waiting_on() const { return waiting_mask_; }
  // Host time charged to compute (charge_compute + advance).
  [[nodiscard]] sc_core::sc_time compute_time() const { return compute_time_; }
  // Quantum synchronizations done (the thread waited) and skipped (host.lazy_sync).
  [[nodiscard]] std::uint64_t syncs_waited() const { return syncs_waited_; }
  [[nodiscard]] std::uint64_t syncs_skipped() const { return syncs_skipped_; }
  // Checkpoint, called by the firmware's thread at a batch boundary. Writing: the global
  // time, the thread's local time offset, the compute time, the interrupt lines.
  // Reading (a resumed run, after its set-up): waits until the stored global time
  // (nothing is pending then, so nothing else happens meanwhile), re-arms the quantum
  // from it (as the last wait of the stopped run did: the host thread only resumes in
  // sync() or wait_irq(), both of which re-arm it) and sets the local offset, so the
  // simulated time is restored to the picosecond.
  void state_io(StateIO& io);

  // Tracing (trace/probe.hpp): the firmware phases go to the track "host" in `group`.
  void attach_tracer(trace::Tracer* t, const std::string& group, int sort_index = 0) {
    probe_.attach(t, group, basename(), sort_index);
  }
  // A firmware phase begins or ends at the host's local time (no synchronization, no
  // simulated time spent). A begin sets the tracer's training context to `ctx`. No-op
  // when no tracer is attached.
  void trace_phase(bool begin, const char* phase, const trace::Context& ctx);
  // The ledger (may be null) the host charges its compute to, as it computes: rows
  // ("host", phase, "mac") and ("host", phase, "op") with the energies host.e_mac_pJ /
  // host.e_op_pJ and the compute time. (The total, "host"/"compute", is charged once at
  // the end of the run by the caller, from the same counts.) Call before sc_start.
  void set_ledger(EnergyLedger* ledger);
  // A firmware phase marker: the ledger's phase begins or ends at the host's local time
  // (its phase times, and the phase later charges land in), and the trace's host track
  // gets the event (trace_phase).
  // `ledger` false: the trace only (a resumed run's re-entered phases, open in the
  // restored ledger already).
  void mark_phase(bool begin, const char* phase, const trace::Context& ctx, bool ledger = true);

  // hal::Hal
  std::uint32_t read32(std::uint64_t addr) override;
  void write32(std::uint64_t addr, std::uint32_t value) override;
  // The debug transport (no time, no bus statistics or trace); HalError on an error.
  std::uint32_t probe32(std::uint64_t addr) override;
  void write_block(std::uint64_t addr, const void* src, std::size_t bytes) override;
  void read_block(std::uint64_t addr, void* dst, std::size_t bytes) override;
  std::uint32_t wait_irq(std::uint32_t mask) override;
  // The lines at the host's local time (synchronizes first: a line changes one or more
  // deltas after its source drives it).
  std::uint32_t irq_lines() override;
  void charge_compute(std::uint64_t ops) override;
  void charge_macs(std::uint64_t macs) override;
  void advance(std::uint64_t cycles) override;
  double now_ns() override;
  void* host_memory(std::uint64_t addr, std::size_t bytes) override;

 private:
  void run();
  // SC_METHOD on any irq_in change: latch the lines, wake wait_irq().
  void sample_irq();
  // One transaction at the local time; throws HalError on an error response. `block`:
  // a burst of write_block/read_block (may leave a sync deferred); otherwise the host
  // first catches up with a deferred sync.
  void transfer(tlm::tlm_command cmd, const char* op, std::uint64_t addr, std::uint8_t* data,
                std::size_t bytes, bool block = false);
  void charge(const sc_core::sc_time& t);
  // The quantum is used up: skip the sync if host.lazy_sync and nothing is pending up to
  // the local time (then defer it), else sync.
  void sync_lazily();
  // qk_.sync(), counted; clears a deferred sync (a full sync passes its point).
  void sync_now();
  // Wait to the last skipped sync point, leaving the host exactly as a sync there would
  // have: sc_time_stamp() at that point, the rest as local time.
  void undefer();
  // Throws std::logic_error if a sync is deferred and activity is now pending at or
  // before its point (the equivalence with a sync at every quantum would not hold).
  void check_deferred();
  // True when no process is runnable now and no event is due at or before `t`.
  [[nodiscard]] static bool quiet_until(const sc_core::sc_time& t);
  // The power counter of the trace: `joules` of host compute over [local time, + t).
  void trace_energy(const sc_core::sc_time& t, double joules);

  HostParams p_;
  Firmware firmware_;
  bool stop_when_done_;
  QuantumKeeper qk_;
  bool deferred_{false};                                 // a sync was skipped, not yet caught up
  sc_core::sc_time deferred_at_{sc_core::SC_ZERO_TIME};  // the last skipped sync's time
  std::uint64_t syncs_waited_{0};
  std::uint64_t syncs_skipped_{0};
  tlm::tlm_generic_payload payload_;
  std::uint32_t irq_lines_{0};
  std::uint32_t waiting_mask_{0};
  sc_core::sc_event irq_event_;
  bool finished_{false};
  std::exception_ptr error_;
  sc_core::sc_time finish_time_{sc_core::SC_ZERO_TIME};
  sc_core::sc_time compute_time_{sc_core::SC_ZERO_TIME};
  log::Logger log_;
  trace::Probe probe_;
  EnergyLedger* ledger_{nullptr};
  EnergyLedger::Id e_mac_{0};
  EnergyLedger::Id e_op_{0};
  tlm::tlm_dmi mem_dmi_;
  bool mem_dmi_valid_{false};
};

}  // namespace memplast::bus
