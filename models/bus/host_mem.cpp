#include "bus/host_mem.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "bus/dma_cost.hpp"
#include "bus/target.hpp"
#include "sim/state_sc.hpp"

namespace memplast::bus {

HostMemory::HostMemory(const sc_core::sc_module_name& name, const HostMemParams& p,
                       EnergyLedger* ledger)
    : sc_module(name),
      socket("socket"),
      dma_socket("dma_socket"),
      cpu_socket("cpu_socket"),
      p_(p),
      size_(static_cast<std::uint64_t>(p.size_MiB) << 20U),
      mem_(static_cast<unsigned char*>(std::calloc(size_, 1))),
      ledger_(ledger) {
  if (!mem_) throw std::bad_alloc();
  socket.register_b_transport(this, &HostMemory::b_transport);
  socket.register_transport_dbg(this, &HostMemory::transport_dbg);
  dma_socket.register_b_transport(this, &HostMemory::b_transport);
  dma_socket.register_transport_dbg(this, &HostMemory::transport_dbg);
  cpu_socket.register_b_transport(this, &HostMemory::cpu_b_transport);
  cpu_socket.register_transport_dbg(this, &HostMemory::transport_dbg);
  cpu_socket.register_get_direct_mem_ptr(this, &HostMemory::get_direct_mem_ptr);
  if (ledger_ != nullptr) {
    e_read_ = ledger_->entry(basename(), "read");
    e_write_ = ledger_->entry(basename(), "write");
  }
}

sc_core::sc_time HostMemory::access_time(std::uint64_t bytes) const {
  return sc_core::sc_time(host_mem_access_ns(p_, bytes), sc_core::SC_NS);
}

tlm::tlm_response_status HostMemory::check(const tlm::tlm_generic_payload& p) const {
  const auto st = check_payload(p);
  if (st != tlm::TLM_OK_RESPONSE || p.get_command() == tlm::TLM_IGNORE_COMMAND) return st;
  if (p.get_data_length() == 0) return tlm::TLM_BURST_ERROR_RESPONSE;
  const std::uint64_t a = p.get_address();
  if (a >= size_ || p.get_data_length() > size_ - a) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  return tlm::TLM_OK_RESPONSE;
}

void HostMemory::copy(tlm::tlm_generic_payload& p) {
  unsigned char* m = mem_.get() + p.get_address();
  if (p.is_write()) {
    std::memcpy(m, p.get_data_ptr(), p.get_data_length());
  } else {
    std::memcpy(p.get_data_ptr(), m, p.get_data_length());
  }
}

void HostMemory::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  const auto st = check(p);
  p.set_response_status(st);
  if (st != tlm::TLM_OK_RESPONSE || p.get_command() == tlm::TLM_IGNORE_COMMAND) return;
  copy(p);
  const std::uint64_t n = p.get_data_length();
  const sc_core::sc_time request = sc_core::sc_time_stamp() + delay;
  const sc_core::sc_time start = std::max(request, free_);
  const sc_core::sc_time hold(host_mem_hold_ns(p_, n), sc_core::SC_NS);
  free_ = start + hold;
  const sc_core::sc_time done = start + sc_core::sc_time(p_.latency_ns, sc_core::SC_NS) + hold;
  delay += done - request;
  ++stats_.accesses;
  stats_.bytes += n;
  stats_.busy += hold;
  stats_.wait += start - request;
  if (ledger_ != nullptr) {
    ledger_->charge(p.is_write() ? e_write_ : e_read_,
                    static_cast<double>(n) * p_.e_byte_pJ * 1e-12, 1, (done - start).to_seconds());
  }
}

void HostMemory::cpu_b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& /*delay*/) {
  // The core's own port: no time (its accesses are in its compute model).
  const auto st = check(p);
  p.set_response_status(st);
  if (st == tlm::TLM_OK_RESPONSE && p.get_command() != tlm::TLM_IGNORE_COMMAND) copy(p);
  p.set_dmi_allowed(true);
}

unsigned HostMemory::transport_dbg(tlm::tlm_generic_payload& p) {
  const auto st = check(p);
  p.set_response_status(st);
  if (st != tlm::TLM_OK_RESPONSE || p.get_command() == tlm::TLM_IGNORE_COMMAND) return 0;
  copy(p);
  return p.get_data_length();
}

bool HostMemory::get_direct_mem_ptr(tlm::tlm_generic_payload& /*p*/, tlm::tlm_dmi& dmi) {
  dmi.set_dmi_ptr(mem_.get());
  dmi.set_start_address(0);
  dmi.set_end_address(size_ - 1);
  dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_READ_WRITE);
  dmi.set_read_latency(sc_core::SC_ZERO_TIME);
  dmi.set_write_latency(sc_core::SC_ZERO_TIME);
  return true;
}

void HostMemory::state_io(StateIO& io) {
  io.section("host_mem");
  sim::time_io(io, "free", free_);
  io.value("accesses", stats_.accesses);
  io.value("bytes", stats_.bytes);
  sim::time_io(io, "busy", stats_.busy);
  sim::time_io(io, "wait", stats_.wait);
}

}  // namespace memplast::bus
