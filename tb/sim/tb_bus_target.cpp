// The protocol checks, window dispatch, per-word timing and debug transport of
// bus::Target, on a small target defined here (its own register and window tables):
//   * wrong command -> command error; TLM_IGNORE_COMMAND -> OK, nothing, no time;
//   * byte enables, streaming, oversized bursts -> byte-enable / burst errors;
//   * unmapped, misaligned, past a window's end, window without a handler -> address
//     error; wrong register size -> burst error; RO write / WO read -> command error;
//   * a write check refuses a write before it happens; a hook's fail() turns the
//     response into an error;
//   * every response status is set; only successful accesses add time (one word time
//     per 32-bit word), and the callbacks see the access's local time;
//   * debug accesses follow the checks, run no hooks and never advance time.
#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

#include "bus/target.hpp"
#include "sim/sc_support.hpp"
#include "tile_tb_util.hpp"
#include "tlm_payload.hpp"

namespace mb = memplast::bus;
namespace mr = memplast::regs;
using memplast::sim::ns;
using sc_core::sc_time;
using sc_core::sc_time_stamp;
using tlm::TLM_READ_COMMAND;
using tlm::TLM_WRITE_COMMAND;

namespace {

constexpr std::uint32_t kCtrl = 0x0, kStatus = 0x4, kCmd = 0x8, kIrq = 0xC, kGuarded = 0x10;
constexpr std::array<mr::RegInfo, 5> kRegs{{
    {"CTRL", kCtrl, mr::Access::RW, 0x5, 0xFF},
    {"STATUS", kStatus, mr::Access::RO, 0x0, 0xFFFFFFFF},
    {"CMD", kCmd, mr::Access::WO, 0x0, 0xFFFFFFFF},
    {"IRQ", kIrq, mr::Access::W1C, 0x3, 0x3},
    {"GUARDED", kGuarded, mr::Access::RW, 0x0, 0xFFFFFFFF},
}};
constexpr std::uint32_t kMem = 0x100, kRom = 0x200, kOrphan = 0x300;
constexpr std::array<mr::WindowInfo, 3> kWins{{
    {"MEM", kMem, 0x40, mr::Access::RW, "u32"},
    {"ROM", kRom, 0x40, mr::Access::RO, "u32"},
    {"ORPHAN", kOrphan, 0x40, mr::Access::RW, "u32"},  // no handler registered
}};

// A target that supplies only callbacks.
struct Dut : mb::Target {
  explicit Dut(const sc_core::sc_module_name& n) : Target(n, kRegs, kWins, ns(10)), mem(16, 0U) {
    registers().on_write(kCmd, [this](std::uint32_t v, std::uint32_t) {
      ++cmd_hooks;
      cmd_at = access_time();
      if (v == 0xBAD) fail(tlm::TLM_COMMAND_ERROR_RESPONSE);
    });
    registers().on_read(kStatus, [this](std::uint32_t) { return ++status_reads; });
    on_write_check(kGuarded, [this](std::uint32_t v) {
      ++checks;
      return v > 100 ? tlm::TLM_COMMAND_ERROR_RESPONSE : tlm::TLM_OK_RESPONSE;
    });
    const auto handler = [this](const mb::WindowAccess& a) {
      last = a.offset;
      last_debug = a.debug;
      win_at = a.at;
      auto* bytes = reinterpret_cast<unsigned char*>(mem.data());
      if (a.window.offset == kRom) {
        std::memset(a.data, 0xAB, a.len);
      } else if (a.write) {
        std::memcpy(bytes + a.offset, a.data, a.len);
      } else {
        std::memcpy(a.data, bytes + a.offset, a.len);
      }
      return tlm::TLM_OK_RESPONSE;
    };
    on_window(kMem, handler);
    on_window(kRom, handler);
  }
  void bad_registrations() {
    EXPECT_THROW(on_window(kMem + 4, {}), std::invalid_argument);
    EXPECT_THROW(on_write_check(0x80, {}), std::invalid_argument);
  }
  std::vector<std::uint32_t> mem;
  unsigned cmd_hooks{0}, checks{0};
  std::uint32_t status_reads{0};
  std::uint64_t last{~0ULL};
  bool last_debug{false};
  sc_time cmd_at, win_at;
};

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, Dut& d) : sc_module(n), ini("ini"), dut(d) {
    ini.socket.bind(d.socket);
    SC_THREAD(run);
  }

  // One access with a fresh delay; returns the status and stores the delay added.
  tlm::tlm_response_status go(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len,
                              unsigned char* be = nullptr, unsigned sw = 0) {
    tlm::tlm_generic_payload gp;
    tb::set_payload(gp, cmd, addr, data, len, be, sw);
    added = ns(5);  // a non-zero starting delay: the target must add to it, not reset it
    ini.socket->b_transport(gp, added);
    added -= ns(5);
    EXPECT_NE(gp.get_response_status(), tlm::TLM_INCOMPLETE_RESPONSE) << std::hex << addr;
    return gp.get_response_status();
  }
  unsigned dbg(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len,
               tlm::tlm_response_status& st) {
    tlm::tlm_generic_payload gp;
    tb::set_payload(gp, cmd, addr, data, len);
    const unsigned n = ini.socket->transport_dbg(gp);
    st = gp.get_response_status();
    return n;
  }

  void run() {
    wait(ns(100));
    const sc_time word = ns(10);
    std::uint32_t v = 0;
    std::uint32_t buf[32] = {};
    const sc_time zero = sc_core::SC_ZERO_TIME;

    // Wrong command; ignore. 3 is the one value outside READ/WRITE/IGNORE that a
    // tlm_command can hold (its enumerators fit in 2 bits; 7 is undefined behaviour,
    // which UBSan reports).
    EXPECT_EQ(go(static_cast<tlm::tlm_command>(3), kCtrl, &v, 4), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(added, zero);
    EXPECT_EQ(go(tlm::TLM_IGNORE_COMMAND, kCmd, &v, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(added, zero);
    EXPECT_EQ(dut.cmd_hooks, 0U);
    EXPECT_EQ(go(tlm::TLM_IGNORE_COMMAND, 0x7777, &v, 3), tlm::TLM_OK_RESPONSE);  // nothing checked

    // Byte enables, streaming, oversized.
    unsigned char be[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kCtrl, &v, 4, be), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kMem, buf, 16, nullptr, 4), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(go(TLM_READ_COMMAND, kCtrl, buf, 8, nullptr, 4), tlm::TLM_BURST_ERROR_RESPONSE);
    dut.set_max_burst_bytes(32);
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kMem, buf, 36), tlm::TLM_BURST_ERROR_RESPONSE);  // oversized
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kMem, buf, 32), tlm::TLM_OK_RESPONSE);
    dut.set_max_burst_bytes(0);
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kMem, buf, 64), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(added, word * 16.0);

    // Registers: unmapped, misaligned, size, access rules.
    EXPECT_EQ(go(TLM_READ_COMMAND, 0x14, &v, 4),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);  // past the registers
    EXPECT_EQ(go(TLM_READ_COMMAND, 0x80, &v, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);    // hole
    EXPECT_EQ(go(TLM_READ_COMMAND, 0x1000, &v, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // beyond all
    EXPECT_EQ(go(TLM_READ_COMMAND, kCtrl + 2, &v, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    std::uint16_t h = 0;
    EXPECT_EQ(go(TLM_READ_COMMAND, kCtrl, &h, 2), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(go(TLM_READ_COMMAND, kCtrl, buf, 0), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kStatus, &v, 4), tlm::TLM_COMMAND_ERROR_RESPONSE);  // RO
    EXPECT_EQ(go(TLM_READ_COMMAND, kCmd, &v, 4), tlm::TLM_COMMAND_ERROR_RESPONSE);      // WO
    EXPECT_EQ(added, zero);
    v = 0x1234;
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kCtrl, &v, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(added, word);
    EXPECT_EQ(dut.bank().get(kCtrl), 0x34U);  // write mask 0xFF
    v = 0x1;
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kIrq, &v, 4), tlm::TLM_OK_RESPONSE);  // W1C
    EXPECT_EQ(dut.bank().get(kIrq), 0x2U);
    EXPECT_EQ(go(TLM_READ_COMMAND, kStatus, &v, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 1U);  // the read hook's value

    // Hooks see the access's local time; fail() turns the response into an error.
    v = 1;
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kCmd, &v, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(dut.cmd_at, sc_time_stamp() + ns(5));
    v = 0xBAD;
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kCmd, &v, 4), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(added, zero);
    EXPECT_EQ(dut.cmd_hooks, 2U);
    EXPECT_EQ(dut.bank().get(kCmd), 0xBADU);  // the register keeps the written value

    // Write check: refuses before the write happens.
    v = 50;
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kGuarded, &v, 4), tlm::TLM_OK_RESPONSE);
    v = 500;
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kGuarded, &v, 4), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(added, zero);
    EXPECT_EQ(dut.bank().get(kGuarded), 50U);
    EXPECT_EQ(dut.checks, 2U);

    // Windows: dispatch with window-relative offsets, errors, per-word time.
    for (std::uint32_t i = 0; i < 4; ++i) buf[i] = 10 + i;
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kMem + 0x20, buf, 16), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(added, word * 4.0);
    EXPECT_EQ(dut.last, 0x20U);
    EXPECT_EQ(dut.win_at, sc_time_stamp() + ns(5));
    EXPECT_EQ(dut.mem[8], 10U);
    EXPECT_EQ(dut.mem[11], 13U);
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kMem + 0x38, buf, 16),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);  // past the end
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kMem + 2, buf, 16),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);  // misaligned
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kMem, buf, 6),
              tlm::TLM_BURST_ERROR_RESPONSE);  // not whole words
    EXPECT_EQ(go(TLM_WRITE_COMMAND, kRom, buf, 4), tlm::TLM_COMMAND_ERROR_RESPONSE);  // RO window
    EXPECT_EQ(go(TLM_READ_COMMAND, kRom + 4, buf, 8), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(buf[0], 0xABABABABU);
    EXPECT_EQ(go(TLM_READ_COMMAND, kOrphan, buf, 4),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);  // no handler
    EXPECT_EQ(added, zero);

    // Debug: same checks, no hooks, no write checks, no time; returns the bytes moved.
    const sc_time t0 = sc_time_stamp();
    const unsigned hooks = dut.cmd_hooks;
    const std::uint32_t reads = dut.status_reads;
    tlm::tlm_response_status st{};
    v = 7;
    EXPECT_EQ(dbg(TLM_WRITE_COMMAND, kCmd, &v, 4, st), 4U);
    EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(dbg(TLM_READ_COMMAND, kCmd, &v, 4, st), 4U);  // WO readable by debug
    EXPECT_EQ(v, 7U);
    EXPECT_EQ(dbg(TLM_READ_COMMAND, kStatus, &v, 4, st), 4U);
    EXPECT_EQ(v, 0U);  // the stored value, not the hook's
    v = 500;
    EXPECT_EQ(dbg(TLM_WRITE_COMMAND, kGuarded, &v, 4, st), 4U);  // no write check
    EXPECT_EQ(dbg(TLM_READ_COMMAND, 0x80, &v, 4, st), 0U);
    EXPECT_EQ(st, tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(dbg(TLM_WRITE_COMMAND, kStatus, &v, 4, st), 0U);
    EXPECT_EQ(st, tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(dbg(TLM_READ_COMMAND, kMem + 0x20, buf, 8, st), 8U);
    EXPECT_EQ(buf[1], 11U);
    EXPECT_TRUE(dut.last_debug);
    EXPECT_EQ(dut.win_at, t0);
    EXPECT_EQ(dut.cmd_hooks, hooks);
    EXPECT_EQ(dut.status_reads, reads);
    EXPECT_EQ(dut.checks, 2U);
    EXPECT_EQ(sc_time_stamp(), t0);
    finished = true;
  }

  tile_tb::Initiator ini;
  Dut& dut;
  sc_time added;
  bool finished{false};
};

}  // namespace

TEST(BusTarget, ProtocolChecks) {
  Dut dut("dut");
  // Registering a handler for no window, or a check for no register, is an error.
  dut.bad_registrations();
  Tb tb("tb", dut);
  sc_core::sc_start();
  EXPECT_TRUE(tb.finished);
}
