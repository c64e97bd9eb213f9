// Helpers of the meta_unit testbenches: a program-command sink with a bounded queue
// drained at a fixed period, and register/window access through an initiator socket.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "bus/gen/regs.hpp"
#include "meta/meta_unit.hpp"
#include "sim/irq.hpp"
#include "tlm_payload.hpp"

namespace meta_tb {

namespace R = memplast::regs::meta_unit;

struct Pushed {
  memplast::meta::ProgramCommand cmd;
  sc_core::sc_time at;
};

// pv_ctrl's command queue as seen by meta_unit (issue 10 item 1): a TLM target of
// `capacity` commands in the CMDQ format (word 0 = tile << 16 | row, word 1 = level <<
// 16 | col; without a cell map the unit sends weight i as row i >> 16, col i & 0xFFFF).
// A full queue answers TLM_GENERIC_ERROR_RESPONSE and drives the space line low; when
// `drain_period` is non-zero a thread pops one command at offset + k * drain_period
// (k = 1, 2, ...) whenever the queue is non-empty and raises the line after a refusal.
// bind(unit) connects the unit's pv_socket and pv_space_in.
class TestSink : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(TestSink);
  TestSink(const sc_core::sc_module_name& n, std::size_t capacity, sc_core::sc_time drain_period,
           sc_core::sc_time offset)
      : sc_module(n), capacity_(capacity), period_(drain_period), offset_(offset) {
    socket.register_b_transport(this, &TestSink::b_transport);
    if (period_ != sc_core::SC_ZERO_TIME) SC_THREAD(drain);
  }
  void bind(memplast::meta::MetaUnit& u) {
    u.pv_socket.bind(socket);
    u.pv_space_in.bind(space_line_);
  }
  tlm_utils::simple_target_socket<TestSink> socket{"socket"};
  std::vector<Pushed> pushed;
  std::vector<sc_core::sc_time> pops;
  std::uint64_t refused{0};

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    EXPECT_EQ(p.get_command(), tlm::TLM_WRITE_COMMAND);
    EXPECT_EQ(p.get_data_length(), 8U);
    std::uint32_t w[2] = {0, 0};
    std::memcpy(w, p.get_data_ptr(), 8);
    if (queue_.size() >= capacity_) {
      ++refused;
      pending_ = true;
      space_line_.write(false);
      p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
      return;
    }
    const memplast::meta::ProgramCommand c{((w[0] & 0xFFFFU) << 16) | (w[1] & 0xFFFFU),
                                           static_cast<std::int8_t>(w[1] >> 16)};
    queue_.push_back(c);
    pushed.push_back({c, sc_core::sc_time_stamp() + delay});
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  void drain() {
    wait(offset_);
    for (;;) {
      wait(period_);
      if (!queue_.empty()) {
        queue_.pop_front();
        pops.push_back(sc_core::sc_time_stamp());
        if (pending_) {
          pending_ = false;
          space_line_.write(true);
        }
      }
      if (stop) return;
    }
  }

 public:
  bool stop{false};

 private:
  std::size_t capacity_;
  sc_core::sc_time period_;
  sc_core::sc_time offset_;
  std::deque<memplast::meta::ProgramCommand> queue_;
  bool pending_{false};
  memplast::sim::IrqLine space_line_{"space"};
};

// A bus master for one unit: 32-bit register accesses and window bursts, with the
// annotated delay applied by waiting (the tests want exact timestamps).
class Master {
 public:
  explicit Master(tlm_utils::simple_initiator_socket<sc_core::sc_module>& s) : socket_(s) {}
  tlm::tlm_response_status access(bool write, std::uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload gp;
    tb::set_payload(gp, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, data, len);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    socket_->b_transport(gp, delay);
    sc_core::wait(delay);
    return gp.get_response_status();
  }
  void write32(std::uint64_t addr, std::uint32_t v) {
    ASSERT_EQ(access(true, addr, &v, 4), tlm::TLM_OK_RESPONSE) << "write 0x" << std::hex << addr;
  }
  std::uint32_t read32(std::uint64_t addr) {
    std::uint32_t v = 0;
    EXPECT_EQ(access(false, addr, &v, 4), tlm::TLM_OK_RESPONSE) << "read 0x" << std::hex << addr;
    return v;
  }

 private:
  tlm_utils::simple_initiator_socket<sc_core::sc_module>& socket_;
};

}  // namespace meta_tb
