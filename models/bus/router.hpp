// The system bus: a loosely-timed TLM-2.0 router between N initiators and M targets.
//
//  * Address map: map(target, base, size, name) routes [base, base + size) to the
//    target bound as initiator_socket[target] (bind in index order); the target sees
//    addresses relative to base. The system top maps the blocks of the generated
//    map (regs::<block>::base(i), kSize); regions may not overlap.
//  * Timing (docs/bus.md): a transaction of n bytes occupies the bus for
//        T_bus = (cycles_per_transfer + ceil(n / width_bytes)) / f_clk
//    and starts at the first instant >= its request time (sc_time_stamp() + delay)
//    at which the bus is free for T_bus (first fit in a reservation calendar shared
//    by all initiators, so overlapping transfers serialize even under temporal
//    decoupling). The delay grows by the wait plus T_bus; the target's own latency is
//    added after. A transaction the router rejects occupies the address phase only
//    (cycles_per_transfer).
//  * Errors (set_response_status, never assert): address not 4-byte aligned ->
//    TLM_ADDRESS_ERROR_RESPONSE; length 0 or not a multiple of 4, or longer than
//    max_burst_bytes -> TLM_BURST_ERROR_RESPONSE; address unmapped, or the transfer
//    runs past the end of its region -> TLM_ADDRESS_ERROR_RESPONSE.
//  * transport_dbg is decoded and forwarded without time or arbitration. DMI is not
//    offered (every access pays bus time): get_direct_mem_ptr answers false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <systemc>
#include <tlm>

#include "bus/bus_params.hpp"
#include "bus/gen/regs.hpp"
#include "common/energy.hpp"
#include "common/fault_schedule.hpp"
#include "common/log.hpp"
#include "common/state_io.hpp"
#include "trace/probe.hpp"

namespace memplast::bus {

struct Region {
  std::string name;
  std::uint64_t base;
  std::uint64_t size;
  std::size_t target;
};

// Per-initiator statistics.
struct InitiatorStats {
  std::uint64_t transfers{0};
  std::uint64_t bytes{0};
  std::uint64_t errors{0};
  sc_core::sc_time wait{sc_core::SC_ZERO_TIME};  // arbitration wait
  sc_core::sc_time busy{sc_core::SC_ZERO_TIME};  // bus occupancy
};

class Router : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Router> target_socket;        // initiators bind here
  tlm_utils::multi_passthrough_initiator_socket<Router> initiator_socket;  // targets bind here

  Router(const sc_core::sc_module_name& name, const BusParams& p);
  // Checkpoint: the reservation calendar and the per-initiator statistics.
  void state_io(StateIO& io);

  // Route [base, base + size) to initiator_socket[target]. Throws std::invalid_argument
  // for a zero size, an overflow or an overlap, naming both regions.
  void map(std::size_t target, std::uint64_t base, std::uint64_t size, const std::string& name);
  // Route instance `instance` of a block of the generated map (regs::<block>::kBlock),
  // named "<block><instance>" for multi-instance blocks, e.g. "tile3".
  void map(std::size_t target, const regs::BlockInfo& block, std::uint32_t instance = 0);

  [[nodiscard]] const std::vector<Region>& regions() const { return regions_; }
  // The region holding addr, or nullptr.
  [[nodiscard]] const Region* decode(std::uint64_t addr) const;
  [[nodiscard]] const InitiatorStats& stats(std::size_t initiator) const;
  [[nodiscard]] std::size_t initiators() const { return stats_.size(); }
  // Tracing (trace/probe.hpp): one event per burst (transaction), or per
  // trace.bus_aggregate bursts, on the track named after the module, and the bus
  // utilisation counter. `initiators` names the initiators by socket index ("host").
  void attach_tracer(trace::Tracer* t, const std::string& group,
                     std::vector<std::string> initiators, int sort_index = 0) {
    probe_.attach(t, group, basename(), sort_index);
    initiator_names_ = std::move(initiators);
  }
  // The ledger (may be null) the bus charges its time to: per transaction a row
  // ("bus", phase, "read" | "write"), count 1, the occupancy in seconds and
  // bus.e_beat_pJ per bus cycle of it (address phase and data beats); and the arbitration wait,
  // when there is one, as
  // ("bus", phase, "arbitration_wait"): the time lost to bus contention.
  void set_ledger(EnergyLedger* ledger);
  // Fault injection (faults.bus_error_rate, faults.bus_error_at_s): a transaction of
  // initiator 0 (the host, bound first) that would succeed is answered with
  // TLM_GENERIC_ERROR_RESPONSE and not forwarded (address phase only, counted in its
  // errors), with probability `rate` (stream "bus.faults" of `seed`) and the first one at
  // or after each time of `at_s`. Call before sc_start.
  void set_fault_injection(double rate, std::vector<double> at_s, std::uint64_t seed);
  [[nodiscard]] std::uint64_t injected_errors() const { return injected_errors_; }
  // Bus time of a transaction of `bytes` (address phase plus beats), no waiting.
  [[nodiscard]] sc_core::sc_time transfer_time(std::uint64_t bytes) const;

 private:
  void b_transport(int id, tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& p);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi);
  void invalidate_direct_mem_ptr(int id, sc_dt::uint64 start, sc_dt::uint64 end);
  void end_of_elaboration() override;

  // Validate the payload against the bus rules and the map; OK or the error status.
  tlm::tlm_response_status route(const tlm::tlm_generic_payload& p, const Region*& r) const;
  // Reserve `occupancy` of bus time at the first fit >= `request`; returns the start.
  sc_core::sc_time reserve(const sc_core::sc_time& request, const sc_core::sc_time& occupancy);
  InitiatorStats& stats_for(int id);
  // Whether the host transaction requested at `t` gets an injected error response.
  bool inject_error(const sc_core::sc_time& t);

  BusParams p_;
  sc_core::sc_time clk_;
  std::vector<Region> regions_;  // sorted by base
  struct Slot {
    sc_core::sc_time start;
    sc_core::sc_time end;
  };
  std::vector<Slot> calendar_;  // reservations, sorted by start, none ending before now
  std::vector<sc_core::sc_time> transfer_time_;  // transfer_time(4 w), w = 0 .. max burst
  std::vector<InitiatorStats> stats_;
  FaultSchedule faults_;  // stream "bus.faults"
  std::uint64_t injected_errors_{0};
  log::Logger log_;
  trace::Probe probe_;
  std::vector<std::string> initiator_names_;
  EnergyLedger* ledger_{nullptr};
  EnergyLedger::Id e_read_{0};
  EnergyLedger::Id e_write_{0};
  EnergyLedger::Id e_wait_{0};
};

}  // namespace memplast::bus
