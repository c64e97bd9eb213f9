#include "pv/pv_link.hpp"

#include "sim/sc_support.hpp"

namespace memplast::pv {

PvLink::PvLink(const sc_core::sc_module_name& name, const PvParams& p, EnergyLedger* ledger)
    : sc_module(name),
      latency_(sim::ns(p.link_latency_ns)),
      energy_J_(p.link_energy_pJ * 1e-12),
      ledger_(ledger) {
  if (ledger_ != nullptr) e_ = ledger_->entry(this->name(), "transfer");
  target_socket.register_b_transport(this, &PvLink::b_transport);
}

void PvLink::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  delay += latency_;
  ++transfers_;
  if (ledger_ != nullptr) ledger_->charge(e_, energy_J_, 1);
  initiator_socket->b_transport(p, delay);
}

}  // namespace memplast::pv
