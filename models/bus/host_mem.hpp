// host_mem: the host's RAM (regs::host_mem, keys host_mem.*), a TLM-2.0 target with
// three ports, all addressed from host_mem's base (offset 0 = regs::host_mem::kBase):
//   socket      the system bus (the router subtracts the base), any bus initiator;
//   dma_socket  the DMA engine's memory port (point-to-point);
//   cpu_socket  the host core's own port: DMI only (get_direct_mem_ptr grants read and
//               write access to the whole backed memory, no time). The firmware's data
//               arrays live in host memory; the core's accesses are part of its compute
//               model (host.*), as its cache would serve them.
// Timing on socket and dma_socket: an access of n bytes requested at t starts at
// s = max(t, free), holds the memory for n / bandwidth (free = s + n / bandwidth) and
// completes at s + latency + n / bandwidth, the annotated delay; no wait. The two
// ports share the memory (serialized in the order the accesses are made; the wait is
// counted in stats().wait). Energy: host_mem.e_byte_pJ per byte, ledger rows
// (host_mem, read|write) with the access time.
// Protocol: command not READ/WRITE/IGNORE -> TLM_COMMAND_ERROR_RESPONSE; byte enables ->
// TLM_BYTE_ENABLE_ERROR_RESPONSE; streaming width != length or length 0 ->
// TLM_BURST_ERROR_RESPONSE; beyond the backed size -> TLM_ADDRESS_ERROR_RESPONSE.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "bus/dma_params.hpp"
#include "common/energy.hpp"
#include "common/state_io.hpp"

namespace memplast::bus {

struct HostMemStats {
  std::uint64_t accesses{0};
  std::uint64_t bytes{0};
  sc_core::sc_time busy{sc_core::SC_ZERO_TIME};  // n / bandwidth summed
  sc_core::sc_time wait{sc_core::SC_ZERO_TIME};  // waiting for the other port
};

class HostMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket_optional<HostMemory> socket;
  tlm_utils::simple_target_socket_optional<HostMemory> dma_socket;
  tlm_utils::simple_target_socket_optional<HostMemory> cpu_socket;

  HostMemory(const sc_core::sc_module_name& name, const HostMemParams& p,
             EnergyLedger* ledger = nullptr);

  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] const HostMemStats& stats() const { return stats_; }
  // Time an access of `bytes` takes with the memory free (latency + bytes / bandwidth).
  [[nodiscard]] sc_core::sc_time access_time(std::uint64_t bytes) const;
  // Checkpoint: the timing state and statistics. Not the contents: the firmware stages
  // every buffer anew before each use (a resumed run rewrites them).
  void state_io(StateIO& io);

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& p);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi);
  void cpu_b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  tlm::tlm_response_status check(const tlm::tlm_generic_payload& p) const;
  void copy(tlm::tlm_generic_payload& p);

  HostMemParams p_;
  struct Free {
    void operator()(unsigned char* m) const { std::free(m); }
  };
  std::uint64_t size_;
  std::unique_ptr<unsigned char, Free> mem_;  // calloc: pages are touched only when used
  sc_core::sc_time free_{sc_core::SC_ZERO_TIME};
  HostMemStats stats_;
  EnergyLedger* ledger_;
  EnergyLedger::Id e_read_{0};
  EnergyLedger::Id e_write_{0};
};

}  // namespace memplast::bus
