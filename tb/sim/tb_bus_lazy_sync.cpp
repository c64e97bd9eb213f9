// The host's lazy quantum synchronization (host.lazy_sync, docs/bus.md):
//  * QuantumKeeper::rearm_at(t) sets the sync point tlm_quantumkeeper::reset() would set
//    with the kernel at t (the first multiple of the global quantum after t);
//  * a sync during a compute charge is skipped when nothing is pending;
//  * a block write whose target starts activity before the skipped point (as pv_ctrl's
//    CMDQ window would) stops the firmware with a std::logic_error naming host.lazy_sync,
//    reported once: the host still finishes, and its closing sync does not rethrow it.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "bus/host.hpp"
#include "sw/hal/hal.hpp"

namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

// A memory whose writes start a process in the next delta cycle (sc_event notified with
// SC_ZERO_TIME), like a command queue window.
struct KickingMemory : sc_core::sc_module {
  SC_HAS_PROCESS(KickingMemory);
  tlm_utils::simple_target_socket<KickingMemory> socket;
  explicit KickingMemory(const sc_core::sc_module_name& n)
      : sc_module(n), socket("socket"), mem(4096, 0) {
    socket.register_b_transport(this, &KickingMemory::b_transport);
    SC_METHOD(kicked);
    sensitive << kick_;
    dont_initialize();
  }
  void b_transport(tlm::tlm_generic_payload& p, sc_time& delay) {
    const auto a = p.get_address();
    const auto n = p.get_data_length();
    delay += sc_time(10, SC_NS);
    if (p.is_read()) {
      std::memcpy(p.get_data_ptr(), &mem[a], n);
    } else {
      std::memcpy(&mem[a], p.get_data_ptr(), n);
      kick_.notify(sc_core::SC_ZERO_TIME);
    }
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  void kicked() { ++kicks; }
  std::vector<std::uint8_t> mem;
  int kicks{0};

 private:
  sc_core::sc_event kick_;
};

}  // namespace

TEST(LazySync, RearmAtIsTheSyncPointOfAResetAtThatTime) {
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(1000, SC_NS));
  memplast::bus::QuantumKeeper qk;
  for (const double t_ns : {0.0, 1.0, 999.0, 1000.0, 1234.5, 7000.0}) {
    qk.rearm_at(sc_time(t_ns, SC_NS));
    // tlm_global_quantum::compute_local_quantum at t: the next multiple of the quantum.
    // The kernel is at 0 here, so need_sync() turns true at a local time of exactly that.
    const double want = (static_cast<std::int64_t>(t_ns) / 1000 + 1) * 1000.0;
    qk.set(sc_time(want, SC_NS) - sc_time(1, sc_core::SC_PS));
    EXPECT_FALSE(qk.need_sync()) << "at " << t_ns << " ns";
    qk.set(sc_time(want, SC_NS));
    EXPECT_TRUE(qk.need_sync()) << "at " << t_ns << " ns";
  }
  // At t = 0 it is what reset() sets.
  qk.reset();
  qk.set(sc_time(999, SC_NS));
  EXPECT_FALSE(qk.need_sync());
  qk.set(sc_time(1000, SC_NS));
  EXPECT_TRUE(qk.need_sync());
}

TEST(LazySync, ActivityBeforeASkippedSyncStopsTheRunNamingTheKey) {
  memplast::bus::HostParams hp;
  hp.f_clk_MHz = 1000.0;
  hp.ops_per_cycle = 1.0;
  hp.quantum_ns = 1000.0;
  hp.lazy_sync = true;
  std::uint64_t skipped_before_write = 0;
  bool reached_after = false;
  memplast::bus::Host* host = nullptr;
  auto fw = [&](memplast::hal::Hal& hal) {
    hal.charge_compute(5000);  // 5 us of compute: syncs skipped, nothing pending
    skipped_before_write = host->syncs_skipped();
    std::uint32_t w[4] = {1, 2, 3, 4};
    hal.write_block(0, w, sizeof w);  // the target kicks a process now
    (void)hal.read32(0);              // catches up: must refuse
    reached_after = true;
  };
  memplast::bus::Host h("host", hp, fw, true);
  host = &h;
  KickingMemory m("mem");
  h.socket.bind(m.socket);
  sc_core::sc_start();
  EXPECT_GT(skipped_before_write, 0U);
  EXPECT_FALSE(reached_after);
  EXPECT_TRUE(h.finished());
  ASSERT_TRUE(h.error() != nullptr);
  try {
    std::rethrow_exception(h.error());
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("host.lazy_sync"), std::string::npos) << e.what();
  } catch (...) {
    ADD_FAILURE() << "not a std::logic_error";
  }
  EXPECT_EQ(m.kicks, 1);
}
