// Helpers of the meta_unit testbenches: a program-command sink with a bounded queue
// drained at a fixed period, and register/window access through an initiator socket.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "bus/gen/regs.hpp"
#include "meta/meta_unit.hpp"
#include "tlm_payload.hpp"

namespace meta_tb {

namespace R = memplast::regs::meta_unit;

struct Pushed {
  memplast::meta::ProgramCommand cmd;
  sc_core::sc_time at;
};

// A queue of `capacity` commands; when `drain_period` is non-zero a thread pops one
// command at offset + k * drain_period (k = 1, 2, ...) whenever the queue is non-empty.
class TestSink : public sc_core::sc_module, public memplast::meta::ProgramSink {
 public:
  SC_HAS_PROCESS(TestSink);
  TestSink(const sc_core::sc_module_name& n, std::size_t capacity, sc_core::sc_time drain_period,
           sc_core::sc_time offset)
      : sc_module(n), capacity_(capacity), period_(drain_period), offset_(offset) {
    if (period_ != sc_core::SC_ZERO_TIME) SC_THREAD(drain);
  }
  bool try_push(const memplast::meta::ProgramCommand& c) override {
    if (queue_.size() >= capacity_) {
      ++refused;
      return false;
    }
    queue_.push_back(c);
    pushed.push_back({c, sc_core::sc_time_stamp()});
    return true;
  }
  const sc_core::sc_event& space_available() const override { return space_; }
  std::vector<Pushed> pushed;
  std::vector<sc_core::sc_time> pops;
  std::uint64_t refused{0};

 private:
  void drain() {
    wait(offset_);
    for (;;) {
      wait(period_);
      if (!queue_.empty()) {
        const bool was_full = queue_.size() >= capacity_;
        queue_.pop_front();
        pops.push_back(sc_core::sc_time_stamp());
        if (was_full) space_.notify(sc_core::SC_ZERO_TIME);
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
  sc_core::sc_event space_;
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
