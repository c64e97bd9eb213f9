// Firmware on two hosts, through the HAL, against the router with two memory-like test
// targets and the sysctl block. Checks, from the firmware side and in timestamps:
//  * latency per transfer and per beat: T = (cycles_per_transfer + ceil(n / width)) / f_clk
//    plus the target's latency; block transfers split into host.burst_bytes bursts;
//  * arbitration: overlapping transfers of the two hosts serialize on the bus;
//  * host compute charged by the operation-count model;
//  * unmapped, misaligned, oversized and wrongly-sized accesses and a write to a
//    read-only register come back as HalError with the right TLM response;
//  * interrupts: a doorbell raises a host line after a known delay; sysctl aggregates;
//  * transport_dbg through the router moves data without advancing time.
#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <vector>

#include <gtest/gtest.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "bus/gen/regs.hpp"
#include "bus/host.hpp"
#include "bus/pio_cost.hpp"
#include "bus/router.hpp"
#include "bus/sysctl.hpp"
#include "sim/sc_support.hpp"
#include "sw/hal/hal.hpp"
#include "tlm_payload.hpp"

namespace {

using memplast::hal::Hal;
using memplast::hal::HalError;
using memplast::hal::Response;
using sc_core::SC_NS;
using sc_core::sc_time;

// A memory with a fixed access latency. The last word is a doorbell: writing v != 0
// raises `irq` v ns after the write; writing 0 lowers it at once.
struct TestMemory : sc_core::sc_module {
  SC_HAS_PROCESS(TestMemory);
  tlm_utils::simple_target_socket<TestMemory> socket;
  TestMemory(const sc_core::sc_module_name& n, std::size_t size, sc_time latency)
      : sc_module(n), socket("socket"), mem(size, 0), latency_(latency) {
    socket.register_b_transport(this, &TestMemory::b_transport);
    socket.register_transport_dbg(this, &TestMemory::transport_dbg);
    SC_METHOD(ring);
    sensitive << doorbell_;
    dont_initialize();
  }
  void b_transport(tlm::tlm_generic_payload& p, sc_time& delay) {
    const auto a = p.get_address();
    const auto n = p.get_data_length();
    if (p.get_byte_enable_ptr() != nullptr) {
      p.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
      return;
    }
    if (a + n > mem.size()) {
      p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    delay += latency_;
    if (p.is_read()) {
      std::memcpy(p.get_data_ptr(), &mem[a], n);
    } else {
      std::memcpy(&mem[a], p.get_data_ptr(), n);
      if (a + n == mem.size() && irq) {
        std::uint32_t v = 0;
        std::memcpy(&v, &mem[mem.size() - 4], 4);
        doorbell_.cancel();
        if (v == 0) {
          irq(false);
        } else {
          doorbell_.notify(delay + sc_time(v, SC_NS));
        }
      }
    }
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  unsigned transport_dbg(tlm::tlm_generic_payload& p) {
    const auto a = p.get_address();
    const auto n = p.get_data_length();
    if (a + n > mem.size()) {
      p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return 0;
    }
    if (p.is_read()) {
      std::memcpy(p.get_data_ptr(), &mem[a], n);
    } else {
      std::memcpy(&mem[a], p.get_data_ptr(), n);
    }
    p.set_response_status(tlm::TLM_OK_RESPONSE);
    return n;
  }
  void ring() { irq(true); }

  std::vector<std::uint8_t> mem;
  std::function<void(bool)> irq;

 private:
  sc_time latency_;
  sc_core::sc_event doorbell_;
};

constexpr std::uint64_t kMem0 = 0x80000000;
constexpr std::uint64_t kMem1 = 0x90000000;
constexpr std::uint64_t kMemSize = 0x1000;
constexpr std::uint64_t kSys = memplast::regs::sysctl::kBase;
namespace sys = memplast::regs::sysctl;

// Runs f, expects a HalError; returns its response (generic_error if none was thrown).
template <typename F>
Response error_of(F&& f, std::uint64_t* addr = nullptr) {
  try {
    f();
  } catch (const HalError& e) {
    if (addr != nullptr) *addr = e.address();
    return e.response();
  }
  ADD_FAILURE() << "no HalError thrown";
  return Response::ok;
}

struct ErrCase {
  const char* what;
  Response got;
  Response want;
  double dt_ns;  // time the failed access took
  double want_dt_ns;
};

}  // namespace

TEST(BusHost, LatencyArbitrationErrorsAndIrqFromFirmware) {
  // 100 MHz bus (10 ns cycle), 4-byte beats, 2 cycles per transfer, 256-byte bursts.
  memplast::bus::BusParams bp;
  bp.width_bytes = 4;
  bp.f_clk_MHz = 100.0;
  bp.cycles_per_transfer = 2;
  bp.max_burst_bytes = 256;
  // 1 GHz host, 2 ops/cycle, 4 MACs/cycle, 1 us quantum.
  memplast::bus::HostParams hp;
  hp.f_clk_MHz = 1000.0;
  hp.ops_per_cycle = 2.0;
  hp.macs_per_cycle = 4.0;
  hp.quantum_ns = 1000.0;
  memplast::bus::HostParams hp0 = hp;
  hp0.burst_bytes = 1024;  // larger than the bus allows: lets firmware issue an oversized burst
  memplast::bus::HostParams hp1 = hp;
  hp1.burst_bytes = 64;  // 16 beats per burst

  const double t_word = 30.0;  // (2 + 1) * 10 ns
  const double t_64 = 180.0;   // (2 + 16) * 10 ns
  const double t_err = 20.0;   // address phase only

  // ---- results recorded by the firmware ----
  double h0_arb_end = 0;
  std::array<double, 2> h1_arb_end{};
  std::vector<std::pair<const char*, double>> deltas;  // (what, measured - expected)
  std::vector<ErrCase> errors;
  std::uint64_t unmapped_addr = 0;
  std::uint32_t id = 0, version = 0, n_tiles = 0, scratch = 0, time_lo = 0, time_hi = 0;
  double time_expect = 0;
  std::uint32_t irq_seen = 0, irq_agg_seen = 0, irq_status = 0, irq_after_clear = 0;
  std::uint32_t sys_status_after = 0;
  bool data_ok = false, split_ok = false;
  double split_dt = 0;

  auto fw0 = [&](Hal& hal) {
    std::array<std::uint32_t, 16> a{}, b{};
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0x1000U + static_cast<std::uint32_t>(i);
    // Phase A, at t = 0: one 64-byte burst, competing with host1's two.
    hal.write_block(kMem0, a.data(), 64);
    h0_arb_end = hal.now_ns();
    hal.advance(2000);  // 2 us at 1 GHz: host1 is done with the bus before phase B

    // Phase B: latency per transfer and per beat.
    auto step = [&](const char* what, double want, auto&& op) {
      const double t = hal.now_ns();
      op();
      deltas.emplace_back(what, hal.now_ns() - t - want);
    };
    step("write32 mem0", t_word, [&] { hal.write32(kMem0, 0xDEADBEEF); });
    std::uint32_t v = 0;
    step("read32 mem0", t_word, [&] { v = hal.read32(kMem0); });
    EXPECT_EQ(v, 0xDEADBEEFU);
    step("write_block 64 B", t_64, [&] { hal.write_block(kMem0 + 0x40, a.data(), 64); });
    step("read_block 64 B", t_64, [&] { hal.read_block(kMem0 + 0x40, b.data(), 64); });
    data_ok = a == b;
    step("read32 mem1 (50 ns target)", t_word + 50.0, [&] { (void)hal.read32(kMem1); });
    step("charge_compute 1000 ops", 500.0, [&] { hal.charge_compute(1000); });
    step("charge_macs 1000", 250.0, [&] { hal.charge_macs(1000); });
    step("advance 100 cycles", 100.0, [&] { hal.advance(100); });

    // Errors, as the firmware sees them.
    auto err = [&](const char* what, Response want, double want_dt, auto&& op,
                   std::uint64_t* addr = nullptr) {
      const double t = hal.now_ns();
      const Response got = error_of(op, addr);
      errors.push_back({what, got, want, hal.now_ns() - t, want_dt});
    };
    std::vector<std::uint8_t> big(512);
    err(
        "unmapped read32", Response::address_error, t_err, [&] { (void)hal.read32(0x70000000); },
        &unmapped_addr);
    err("unmapped pv_ctrl (not in this system)", Response::address_error, t_err,
        [&] { (void)hal.read32(memplast::regs::pv_ctrl::kBase); });
    err("misaligned read32", Response::address_error, t_err, [&] { (void)hal.read32(kMem0 + 2); });
    err("oversized burst (512 B > 256 B)", Response::burst_error, t_err,
        [&] { hal.read_block(kMem0, big.data(), 512); });
    err("burst past the end of mem0", Response::address_error, t_err,
        [&] { hal.read_block(kMem0 + kMemSize - 16, big.data(), 32); });
    err("6-byte block", Response::burst_error, t_err,
        [&] { hal.write_block(kMem0, big.data(), 6); });
    err("write32 to RO sysctl.ID", Response::command_error, t_word,
        [&] { hal.write32(kSys + sys::ID, 1); });
    err("8-byte access to sysctl.SCRATCH", Response::burst_error, 40.0,
        [&] { hal.write_block(kSys + sys::SCRATCH, big.data(), 8); });
    err("read32 in a sysctl hole", Response::address_error, t_word,
        [&] { (void)hal.read32(kSys + 0x800); });

    // sysctl registers.
    id = hal.read32(kSys + sys::ID);
    version = hal.read32(kSys + sys::VERSION);
    n_tiles = hal.read32(kSys + sys::N_TILES);
    hal.write32(kSys + sys::SCRATCH, 0x5A5A1234);
    scratch = hal.read32(kSys + sys::SCRATCH);
    time_expect = hal.now_ns() + t_word;  // the target samples time after the bus transfer
    time_lo = hal.read32(kSys + sys::SIM_TIME_LO);
    time_hi = hal.read32(kSys + sys::SIM_TIME_HI);

    // Interrupts: doorbell of mem0 rings 200 ns after the write lands.
    hal.write32(kSys + sys::IRQ_ENABLE, sys::IRQ_ENABLE_PV_MASK);
    const double t_ring = hal.now_ns() + t_word + 200.0;
    hal.write32(kMem0 + kMemSize - 4, 200);
    irq_seen = hal.wait_irq(1U << 3);
    deltas.emplace_back("irq after doorbell", hal.now_ns() - t_ring);
    irq_agg_seen = hal.irq_lines();
    irq_status = hal.read32(kSys + sys::IRQ_STATUS);
    hal.write32(kMem0 + kMemSize - 4, 0);  // lowers the line and the sysctl source
    irq_after_clear = hal.irq_lines();
    sys_status_after = hal.read32(kSys + sys::IRQ_STATUS);
  };

  auto fw1 = [&](Hal& hal) {
    std::array<std::uint32_t, 16> a{};
    a.fill(0xABCD0000U);
    hal.write_block(kMem0 + 0x100, a.data(), 64);
    h1_arb_end[0] = hal.now_ns();
    hal.write_block(kMem0 + 0x100, a.data(), 64);
    h1_arb_end[1] = hal.now_ns();
    // After host0 is done: a 256-byte block splits into four 64-byte bursts.
    hal.advance(10000);
    std::vector<std::uint32_t> w(64), r(64);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::uint32_t>(i * 7);
    const double t = hal.now_ns();
    hal.write_block(kMem0 + 0x400, w.data(), 256);
    split_dt = hal.now_ns() - t;
    hal.read_block(kMem0 + 0x400, r.data(), 256);
    split_ok = w == r;
  };

  memplast::bus::Router bus("bus", bp);
  memplast::bus::Host host0("host0", hp0, fw0);
  memplast::bus::Host host1("host1", hp1, fw1);
  TestMemory mem0("mem0", kMemSize, sc_core::SC_ZERO_TIME);
  TestMemory mem1("mem1", kMemSize, sc_time(50, SC_NS));
  memplast::bus::Sysctl sysctl("sysctl", 2);
  // Interrupt lines: mem0's doorbell drives host0 line 3 and sysctl's pv input; sysctl's
  // aggregate drives host0 line 0.
  memplast::sim::IrqLine doorbell_line("doorbell_line");
  memplast::sim::IrqLine aggregate_line("aggregate_line");
  mem0.irq = [&](bool l) { doorbell_line.write(l); };
  host0.irq_in[3].bind(doorbell_line);
  sysctl.pv_irq.bind(doorbell_line);
  sysctl.irq_out.bind(aggregate_line);
  host0.irq_in[0].bind(aggregate_line);

  host0.socket.bind(bus.target_socket);
  host1.socket.bind(bus.target_socket);
  bus.initiator_socket.bind(mem0.socket);
  bus.initiator_socket.bind(mem1.socket);
  bus.initiator_socket.bind(sysctl.socket);
  bus.map(0, kMem0, kMemSize, "mem0");
  bus.map(1, kMem1, kMemSize, "mem1");
  bus.map(2, memplast::regs::sysctl::kBlock);
  EXPECT_THROW(bus.map(1, kMem0 + 0x800, 0x1000, "overlap"), std::invalid_argument);
  EXPECT_THROW(bus.map(1, memplast::regs::sysctl::kBlock, 1), std::invalid_argument);
  ASSERT_NE(bus.decode(kSys + sys::SCRATCH), nullptr);
  EXPECT_EQ(bus.decode(kSys + sys::SCRATCH)->name, "sysctl");
  EXPECT_EQ(bus.decode(0x70000000), nullptr);

  sc_core::sc_start();

  ASSERT_TRUE(host0.finished());
  ASSERT_TRUE(host1.finished());
  EXPECT_FALSE(host0.error());
  EXPECT_FALSE(host1.error());

  // Arbitration: three 64-byte bursts requested at t = 0 occupy [0,180), [180,360),
  // [360,540) in some order; host1's two stay in order.
  std::vector<double> ends{h0_arb_end, h1_arb_end[0], h1_arb_end[1]};
  std::sort(ends.begin(), ends.end());
  EXPECT_DOUBLE_EQ(ends[0], t_64);
  EXPECT_DOUBLE_EQ(ends[1], 2 * t_64);
  EXPECT_DOUBLE_EQ(ends[2], 3 * t_64);
  EXPECT_LT(h1_arb_end[0], h1_arb_end[1]);
  // Someone waited for the bus: total arbitration wait is 180 ns (host0 first: host1's
  // first burst waits 180) or 360 ns (host1 first: host0 waits 360).
  const sc_time wait = bus.stats(0).wait + bus.stats(1).wait;
  EXPECT_TRUE(wait == sc_time(180, SC_NS) || wait == sc_time(360, SC_NS)) << wait;

  // Times are read as double ns of a ps-resolution clock; 1e-6 ns is far below one
  // tick, so this tolerance only absorbs the double rounding of large absolute times.
  constexpr double kTickTol = 1e-6;
  for (const auto& [what, d] : deltas) EXPECT_NEAR(d, 0.0, kTickTol) << what;
  EXPECT_TRUE(data_ok);
  EXPECT_TRUE(split_ok);
  EXPECT_DOUBLE_EQ(split_dt, 4 * t_64);
  // The functional backend's cost of the same accesses (bus::pio_access, issue 10 item 6)
  // is what the router and host charged: a word, a 64-byte burst, a 256-byte block in
  // 64-byte bursts (targets without per-word time).
  using memplast::bus::pio_access;
  EXPECT_NEAR(pio_access(bp, hp0.burst_bytes, 4, 0.0).total_s() * 1e9, t_word, 1e-9);
  EXPECT_NEAR(pio_access(bp, hp0.burst_bytes, 64, 0.0).total_s() * 1e9, t_64, 1e-9);
  EXPECT_NEAR(pio_access(bp, hp1.burst_bytes, 256, 0.0).total_s() * 1e9, split_dt, 1e-9);
  EXPECT_EQ(pio_access(bp, hp1.burst_bytes, 256, 0.0).transactions, 4U);
  EXPECT_EQ(memplast::bus::transfer_cycles(bp, 64), 18U);
  EXPECT_EQ(bus.transfer_time(64), sc_time(180, SC_NS));
  EXPECT_NEAR(pio_access(bp, hp1.burst_bytes, 256, 10e-9).target_s * 1e9, 640.0, 1e-9);

  ASSERT_EQ(errors.size(), 9U);
  for (const auto& e : errors) {
    EXPECT_EQ(e.got, e.want) << e.what << ": got " << memplast::hal::response_name(e.got);
    EXPECT_NEAR(e.dt_ns, e.want_dt_ns, kTickTol) << e.what;
  }
  EXPECT_EQ(unmapped_addr, 0x70000000U);
  EXPECT_EQ(bus.stats(0).errors, 9U);
  EXPECT_EQ(bus.stats(1).errors, 0U);

  EXPECT_EQ(id, sys::ID_RESET);
  EXPECT_EQ(version, sys::VERSION_RESET);
  EXPECT_EQ(n_tiles, 2U);
  EXPECT_EQ(scratch, 0x5A5A1234U);
  EXPECT_EQ(time_hi, 0U);
  EXPECT_EQ(static_cast<double>(time_lo), time_expect);

  EXPECT_EQ(irq_seen, 1U << 3);
  EXPECT_EQ(irq_agg_seen, (1U << 3) | 1U);  // doorbell line and sysctl's aggregate line
  EXPECT_EQ(irq_status, sys::IRQ_STATUS_PV_MASK);
  EXPECT_EQ(irq_after_clear, 0U);
  EXPECT_EQ(sys_status_after, 0U);

  // Debug access through the router: data moves, time does not.
  const sc_time before = sc_core::sc_time_stamp();
  std::uint32_t dv = 0;
  tlm::tlm_generic_payload p;
  tb::set_payload(p, tlm::TLM_READ_COMMAND, kMem0, &dv, 4);
  EXPECT_EQ(host0.socket->transport_dbg(p), 4U);
  EXPECT_EQ(dv, 0xDEADBEEFU);
  p.set_address(0x70000000);
  EXPECT_EQ(host0.socket->transport_dbg(p), 0U);
  EXPECT_EQ(p.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(sc_core::sc_time_stamp(), before);
  // DMI is not offered.
  tlm::tlm_dmi dmi;
  p.set_address(kMem0);
  EXPECT_FALSE(host0.socket->get_direct_mem_ptr(p, dmi));
}
