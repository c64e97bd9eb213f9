// Shared by the tile testbenches: a TLM initiator with blocking helpers.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "tlm_payload.hpp"

namespace tile_tb {

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket;
  explicit Initiator(const sc_core::sc_module_name& n) : sc_module(n), socket("socket") {}

  // One transaction with annotated delay `delay` (not waited for here).
  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, void* data,
                                  unsigned len, sc_core::sc_time& delay,
                                  unsigned char* byte_enable = nullptr) {
    tlm::tlm_generic_payload gp;
    tb::set_payload(gp, cmd, addr, data, len, byte_enable);
    socket->b_transport(gp, delay);
    return gp.get_response_status();
  }
  // Synchronous helpers: the access happens now, then the thread waits the delay.
  tlm::tlm_response_status write32(std::uint64_t addr, std::uint32_t v) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    const auto st = access(tlm::TLM_WRITE_COMMAND, addr, &v, 4, d);
    wait(d);
    return st;
  }
  tlm::tlm_response_status read32(std::uint64_t addr, std::uint32_t& v) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    const auto st = access(tlm::TLM_READ_COMMAND, addr, &v, 4, d);
    wait(d);
    return st;
  }
  std::uint32_t read32(std::uint64_t addr) {
    std::uint32_t v = 0xDEADBEEF;
    read32(addr, v);
    return v;
  }
  tlm::tlm_response_status write_block(std::uint64_t addr, const std::vector<float>& v) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    std::vector<float> copy(v);
    const auto st =
        access(tlm::TLM_WRITE_COMMAND, addr, copy.data(), static_cast<unsigned>(v.size() * 4), d);
    wait(d);
    return st;
  }
  tlm::tlm_response_status read_block(std::uint64_t addr, std::vector<float>& v) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    const auto st =
        access(tlm::TLM_READ_COMMAND, addr, v.data(), static_cast<unsigned>(v.size() * 4), d);
    wait(d);
    return st;
  }
  unsigned debug(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload gp;
    tb::set_payload(gp, cmd, addr, data, len);
    return socket->transport_dbg(gp);
  }
};

}  // namespace tile_tb
