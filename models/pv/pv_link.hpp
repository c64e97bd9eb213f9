// The dedicated point-to-point link from meta_unit to pv_ctrl's command queue
// (pv.cmd_path = link, issue 10 item 1): a TLM target socket (meta_unit's initiator
// binds here) and an initiator socket (bound to PvCtrl::queue_socket). Every transaction
// is forwarded with pv.link_latency_ns added to its delay (responses, including the
// queue-full refusal, travel back unchanged) and pv.link_energy_pJ charged to the
// ledger entry ("<name>", "transfer"), refused ones included (the wire toggled).
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "common/energy.hpp"
#include "pv/pv_params.hpp"

namespace memplast::pv {

class PvLink : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<PvLink> target_socket{"target_socket"};
  tlm_utils::simple_initiator_socket<PvLink> initiator_socket{"initiator_socket"};

  // `ledger` may be null; it must outlive the module.
  PvLink(const sc_core::sc_module_name& name, const PvParams& p, EnergyLedger* ledger);
  [[nodiscard]] std::uint64_t transfers() const { return transfers_; }

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  sc_core::sc_time latency_;
  double energy_J_;
  EnergyLedger* ledger_;
  EnergyLedger::Id e_{0};
  std::uint64_t transfers_{0};
};

}  // namespace memplast::pv
