// The generated address map and the register-bank helper, without a kernel:
// invariants of the generated tables, agreement of the C++ and C headers, the access
// rules and TLM response statuses of RegisterBank and check_window, and the generator's
// stale-file check and spec validation.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <tlm>

#include "bus/gen/regs.hpp"
#include "bus/reg_bank.hpp"
#include "sw/include/memplast_regs.h"

// libsystemc.so refers to sc_main; this binary's main is gtest_main (no kernel is
// elaborated here), so sc_main is never called.
int sc_main(int /*argc*/, char* /*argv*/[]) { return 1; }

namespace regs = memplast::regs;
using memplast::bus::RegisterBank;

namespace {

std::filesystem::path source_dir() {
  const char* s = std::getenv("MEMPLAST_SOURCE_DIR");
  return s != nullptr ? std::filesystem::path(s) : std::filesystem::current_path();
}

// A payload with its own 4..64-byte buffer.
struct Txn {
  tlm::tlm_generic_payload p;
  std::array<unsigned char, 64> buf{};
  Txn(tlm::tlm_command cmd, std::uint64_t addr, unsigned len = 4, std::uint32_t value = 0) {
    p.set_command(cmd);
    p.set_address(addr);
    p.set_data_ptr(buf.data());
    p.set_data_length(len);
    p.set_streaming_width(len);
    p.set_byte_enable_ptr(nullptr);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    std::memcpy(buf.data(), &value, 4);
  }
  [[nodiscard]] std::uint32_t value() const {
    std::uint32_t v = 0;
    std::memcpy(&v, buf.data(), 4);
    return v;
  }
};

tlm::tlm_response_status write(RegisterBank& b, std::uint64_t off, std::uint32_t v,
                               bool debug = false) {
  Txn t(tlm::TLM_WRITE_COMMAND, off, 4, v);
  b.transport(t.p, debug);
  return t.p.get_response_status();
}

std::pair<tlm::tlm_response_status, std::uint32_t> read(RegisterBank& b, std::uint64_t off,
                                                        bool debug = false) {
  Txn t(tlm::TLM_READ_COMMAND, off);
  b.transport(t.p, debug);
  return {t.p.get_response_status(), t.value()};
}

template <std::size_t NR, std::size_t NW>
void check_block(const regs::BlockInfo& b, const std::array<regs::RegInfo, NR>& r,
                 const std::array<regs::WindowInfo, NW>& w) {
  for (std::size_t i = 0; i < NR; ++i) {
    EXPECT_EQ(r[i].offset % 4, 0U) << b.name << "." << r[i].name;
    EXPECT_LT(r[i].offset + 4ULL, b.size + 1) << b.name << "." << r[i].name;
    EXPECT_EQ(r[i].reset & ~r[i].write_mask, 0U) << b.name << "." << r[i].name;
    if (i > 0) {
      EXPECT_LT(r[i - 1].offset, r[i].offset) << b.name << " registers sorted, unique";
    }
  }
  for (const auto& win : w) {
    EXPECT_EQ(win.offset % 4, 0U) << b.name << "." << win.name;
    EXPECT_LE(std::uint64_t{win.offset} + win.size, b.size) << b.name << "." << win.name;
    if (NR > 0) {
      EXPECT_GT(win.offset, r[NR - 1].offset) << b.name << "." << win.name;
    }
  }
}

}  // namespace

TEST(GeneratedMap, BlocksAreSortedAndDisjoint) {
  for (std::size_t i = 0; i + 1 < regs::kBlocks.size(); ++i) {
    const auto& a = regs::kBlocks[i];
    const auto& b = regs::kBlocks[i + 1];
    // The tile block's base is its first placement's (the others: below).
    const std::uint64_t n =
        std::string(a.name) == "tile" ? regs::tile::kPlacements[0].max : a.instances;
    EXPECT_LE(a.base + (n - 1) * a.stride + a.size, b.base) << a.name << " / " << b.name;
  }
  // Every tile placement, full, is disjoint from every other block.
  for (const auto& p : regs::tile::kPlacements) {
    const std::uint64_t end = p.base + (p.max - 1) * regs::tile::kStride + regs::tile::kSize;
    EXPECT_LE(end, std::uint64_t{1} << 32);
    for (const auto& b : regs::kBlocks) {
      if (std::string(b.name) == "tile") continue;
      const std::uint64_t b_end = b.base + (b.instances - 1) * b.stride + b.size;
      EXPECT_TRUE(end <= b.base || b_end <= p.base)
          << "tile placement at " << p.base << " / " << b.name;
    }
  }
  EXPECT_EQ(regs::tile::placement_base(64), regs::tile::kBase);
  EXPECT_EQ(regs::tile::placement_base(256), regs::tile::kBase);
  EXPECT_EQ(regs::tile::placement_base(257), regs::tile::kPlacements[1].base);
  EXPECT_EQ(regs::tile::placement_base(0), 0U);
  EXPECT_EQ(regs::tile::placement_base(regs::tile::kMaxInstances + 1), 0U);
  check_block(regs::sysctl::kBlock, regs::sysctl::kRegisters, regs::sysctl::kWindows);
  check_block(regs::pv_ctrl::kBlock, regs::pv_ctrl::kRegisters, regs::pv_ctrl::kWindows);
  check_block(regs::meta_unit::kBlock, regs::meta_unit::kRegisters, regs::meta_unit::kWindows);
  check_block(regs::tile::kBlock, regs::tile::kRegisters, regs::tile::kWindows);
}

TEST(GeneratedMap, CHeaderAgreesWithCppHeader) {
  EXPECT_EQ(MP_TILE_BASE, regs::tile::kBase);
  EXPECT_EQ(MP_TILE_ADDR(3), regs::tile::base(3));
  EXPECT_EQ(MP_TILE_STRIDE, regs::tile::kStride);
  EXPECT_EQ(MP_TILE_MAX_INSTANCES, regs::tile::kMaxInstances);
  EXPECT_EQ(MP_TILE_PLACEMENT1_BASE, regs::tile::kPlacements[1].base);
  EXPECT_EQ(MP_TILE_ADDR_AT(MP_TILE_PLACEMENT1_BASE, 5),
            regs::tile::kPlacements[1].base + 5 * regs::tile::kStride);
  EXPECT_EQ(MP_SYSCTL_TILE_IRQ_SIZE * 8, regs::sysctl::TILE_IRQ_SIZE * 8);
  EXPECT_EQ(MP_TILE_CONFIG, regs::tile::CONFIG);
  EXPECT_EQ(MP_TILE_CONFIG_N_VECTORS_MASK, regs::tile::CONFIG_N_VECTORS_MASK);
  EXPECT_EQ(MP_TILE_CONFIG_N_VECTORS_SHIFT, regs::tile::CONFIG_N_VECTORS_SHIFT);
  EXPECT_EQ(MP_TILE_CMD_OP_MVM_TRANSPOSE, regs::tile::CMD_OP_MVM_TRANSPOSE);
  EXPECT_EQ(MP_TILE_OUTPUT_OFFSET, regs::tile::OUTPUT_OFFSET);
  EXPECT_EQ(MP_PV_CTRL_BASE, regs::pv_ctrl::kBase);
  EXPECT_EQ(MP_PV_CTRL_LAST_FAIL_COL, regs::pv_ctrl::LAST_FAIL_COL);
  EXPECT_EQ(MP_PV_CTRL_STATUS_RESET, regs::pv_ctrl::STATUS_RESET);
  EXPECT_EQ(MP_META_UNIT_GRAD_SIZE, regs::meta_unit::GRAD_SIZE);
  EXPECT_EQ(MP_META_UNIT_CMD_OP_NEW_TASK, regs::meta_unit::CMD_OP_NEW_TASK);
  EXPECT_EQ(MP_SYSCTL_ID_RESET, regs::sysctl::ID_RESET);
  // Field helpers with a multi-bit field.
  const auto cfg = regs::set_field(regs::tile::CONFIG_RESET, regs::tile::CONFIG_N_VECTORS_MASK,
                                   regs::tile::CONFIG_N_VECTORS_SHIFT, 100);
  EXPECT_EQ(
      regs::get_field(cfg, regs::tile::CONFIG_N_VECTORS_MASK, regs::tile::CONFIG_N_VECTORS_SHIFT),
      100U);
  EXPECT_EQ(
      regs::get_field(cfg, regs::tile::CONFIG_ENCODING_MASK, regs::tile::CONFIG_ENCODING_SHIFT),
      regs::tile::CONFIG_ENCODING_AMPLITUDE);
}

TEST(RegisterBank, ResetValuesAndModelSide) {
  RegisterBank b("pv_ctrl", regs::pv_ctrl::kRegisters);
  EXPECT_EQ(b.get(regs::pv_ctrl::STATUS), regs::pv_ctrl::STATUS_QUEUE_EMPTY_MASK);
  b.set(regs::pv_ctrl::CNT_PULSES, 77);
  EXPECT_EQ(read(b, regs::pv_ctrl::CNT_PULSES), std::make_pair(tlm::TLM_OK_RESPONSE, 77U));
  b.reset();
  EXPECT_EQ(b.get(regs::pv_ctrl::CNT_PULSES), 0U);
  EXPECT_THROW(b.set(0x7F0, 1), std::invalid_argument);
  EXPECT_THROW(b.on_write(0x002, {}), std::invalid_argument);
}

TEST(RegisterBank, AccessRulesGiveTheRightResponses) {
  namespace pv = regs::pv_ctrl;
  RegisterBank b("pv_ctrl", pv::kRegisters);
  // RW round trip.
  EXPECT_EQ(write(b, pv::CMD_ROW, 17), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(read(b, pv::CMD_ROW), std::make_pair(tlm::TLM_OK_RESPONSE, 17U));
  // Write to RO: command error, value unchanged.
  EXPECT_EQ(write(b, pv::QUEUE_COUNT, 5), tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(b.get(pv::QUEUE_COUNT), 0U);
  // Read of WO: command error; a debug read is allowed.
  EXPECT_EQ(read(b, pv::CMD_PUSH).first, tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(read(b, pv::CMD_PUSH, /*debug=*/true).first, tlm::TLM_OK_RESPONSE);
  // Unmapped (a hole inside the block and past the last register) and misaligned.
  EXPECT_EQ(read(b, 0x044).first, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(read(b, 0xFFC).first, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(read(b, pv::CMD_ROW + 1).first, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  // Wrong sizes: 8 bytes, 2 bytes, streaming width.
  Txn t8(tlm::TLM_READ_COMMAND, pv::CMD_ROW, 8);
  EXPECT_EQ(b.transport(t8.p), 0U);
  EXPECT_EQ(t8.p.get_response_status(), tlm::TLM_BURST_ERROR_RESPONSE);
  Txn t2(tlm::TLM_WRITE_COMMAND, pv::CMD_ROW, 2);
  b.transport(t2.p);
  EXPECT_EQ(t2.p.get_response_status(), tlm::TLM_BURST_ERROR_RESPONSE);
  Txn ts(tlm::TLM_READ_COMMAND, pv::CMD_ROW, 4);
  ts.p.set_streaming_width(2);
  b.transport(ts.p);
  EXPECT_EQ(ts.p.get_response_status(), tlm::TLM_BURST_ERROR_RESPONSE);
  // Byte enables.
  Txn tb(tlm::TLM_READ_COMMAND, pv::CMD_ROW, 4);
  unsigned char be[4] = {0xFF, 0, 0xFF, 0};
  tb.p.set_byte_enable_ptr(be);
  tb.p.set_byte_enable_length(4);
  b.transport(tb.p);
  EXPECT_EQ(tb.p.get_response_status(), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  // Ignore command: OK, nothing happens.
  Txn ti(tlm::TLM_IGNORE_COMMAND, 0x044);
  b.transport(ti.p);
  EXPECT_EQ(ti.p.get_response_status(), tlm::TLM_OK_RESPONSE);
}

TEST(RegisterBank, FieldMasksW1CAndHooks) {
  namespace tl = regs::tile;
  RegisterBank b("tile0", tl::kRegisters);
  // IRQ_ENABLE has fields DONE, ERROR and ADC_SAT only: other bits are not stored.
  EXPECT_EQ(write(b, tl::IRQ_ENABLE, 0xFFFFFFFF), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(b.get(tl::IRQ_ENABLE),
            tl::IRQ_ENABLE_DONE_MASK | tl::IRQ_ENABLE_ERROR_MASK | tl::IRQ_ENABLE_ADC_SAT_MASK);
  // W1C: writing 1 clears, 0 keeps.
  b.set(tl::IRQ_STATUS, tl::IRQ_STATUS_DONE_MASK | tl::IRQ_STATUS_ERROR_MASK);
  EXPECT_EQ(write(b, tl::IRQ_STATUS, tl::IRQ_STATUS_DONE_MASK), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(b.get(tl::IRQ_STATUS), tl::IRQ_STATUS_ERROR_MASK);
  // Hooks: write hook sees (new, old); read hook replaces the value; debug skips both.
  std::uint32_t seen_new = 0;
  std::uint32_t seen_old = 0;
  int writes = 0;
  b.on_write(tl::CMD, [&](std::uint32_t n, std::uint32_t o) {
    seen_new = n;
    seen_old = o;
    ++writes;
  });
  int reads = 0;
  b.on_read(tl::CYCLES_LAST, [&](std::uint32_t stored) {
    ++reads;
    return stored + 1000;
  });
  b.set(tl::CMD, 2);
  EXPECT_EQ(write(b, tl::CMD, tl::CMD_OP_MVM_FWD | 0xF0), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(writes, 1);
  EXPECT_EQ(seen_new, tl::CMD_OP_MVM_FWD);  // bits outside OP are dropped
  EXPECT_EQ(seen_old, 2U);
  EXPECT_EQ(write(b, tl::CMD, 3, /*debug=*/true), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(writes, 1);
  b.set(tl::CYCLES_LAST, 5);
  EXPECT_EQ(read(b, tl::CYCLES_LAST).second, 1005U);
  EXPECT_EQ(read(b, tl::CYCLES_LAST, /*debug=*/true).second, 5U);
  EXPECT_EQ(reads, 1);
  // A rejected write runs no hook.
  EXPECT_EQ(write(b, tl::ROWS, 1), tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(writes, 1);
}

TEST(RegisterBank, DuplicateOrMisalignedTableIsRejected) {
  const std::array<regs::RegInfo, 2> dup{
      {{"A", 0x0, regs::Access::RW, 0, ~0U}, {"B", 0x0, regs::Access::RW, 0, ~0U}}};
  EXPECT_THROW(RegisterBank("x", dup), std::invalid_argument);
  const std::array<regs::RegInfo, 1> mis{{{"A", 0x2, regs::Access::RW, 0, ~0U}}};
  EXPECT_THROW(RegisterBank("x", mis), std::invalid_argument);
}

TEST(CheckWindow, Responses) {
  namespace tl = regs::tile;
  const auto* in = memplast::bus::find_window(tl::kWindows, tl::INPUT_OFFSET + 8);
  const auto* out = memplast::bus::find_window(tl::kWindows, tl::OUTPUT_OFFSET);
  ASSERT_NE(in, nullptr);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(memplast::bus::find_window(tl::kWindows, 0x100), nullptr);
  using memplast::bus::check_window;
  Txn ok(tlm::TLM_WRITE_COMMAND, tl::INPUT_OFFSET, 64);
  EXPECT_EQ(check_window(ok.p, *in), tlm::TLM_OK_RESPONSE);
  Txn past(tlm::TLM_WRITE_COMMAND, tl::INPUT_OFFSET + tl::INPUT_SIZE - 32, 64);
  EXPECT_EQ(check_window(past.p, *in), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  Txn mis(tlm::TLM_WRITE_COMMAND, tl::INPUT_OFFSET + 2, 4);
  EXPECT_EQ(check_window(mis.p, *in), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  Txn odd(tlm::TLM_WRITE_COMMAND, tl::INPUT_OFFSET, 6);
  EXPECT_EQ(check_window(odd.p, *in), tlm::TLM_BURST_ERROR_RESPONSE);
  Txn ro(tlm::TLM_WRITE_COMMAND, tl::OUTPUT_OFFSET, 4);
  EXPECT_EQ(check_window(ro.p, *out), tlm::TLM_COMMAND_ERROR_RESPONSE);
  Txn rd(tlm::TLM_READ_COMMAND, tl::OUTPUT_OFFSET, 4);
  EXPECT_EQ(check_window(rd.p, *out), tlm::TLM_OK_RESPONSE);
}

// ---- the generator ----------------------------------------------------------------

namespace {
// Runs a shell command, returns (exit status, combined output).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return {-1, "popen failed"};
  char buf[512];
  while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
  const int st = pclose(f);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string gen_regs() { return "python3 " + (source_dir() / "scripts" / "gen_regs").string(); }

std::filesystem::path copy_outputs(const std::string& name) {
  const auto root = std::filesystem::temp_directory_path() / ("memplast_regs_" + name);
  std::filesystem::remove_all(root);
  for (const char* rel :
       {"models/bus/gen/regs.hpp", "sw/include/memplast_regs.h", "docs/registers.md"}) {
    std::filesystem::create_directories((root / rel).parent_path());
    std::filesystem::copy_file(source_dir() / rel, root / rel);
  }
  return root;
}
}  // namespace

TEST(Generator, CheckPassesOnCopyAndFailsWhenAFileIsStale) {
  const auto root = copy_outputs("stale");
  auto [rc, out] = run(gen_regs() + " --check --root " + root.string());
  EXPECT_EQ(rc, 0) << out;
  {
    std::ofstream f(root / "sw/include/memplast_regs.h", std::ios::app);
    f << "#define MP_HAND_EDIT 1u\n";
  }
  std::tie(rc, out) = run(gen_regs() + " --check --root " + root.string());
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("sw/include/memplast_regs.h"), std::string::npos) << out;
  EXPECT_EQ(out.find("models/bus/gen/regs.hpp"), std::string::npos) << out;
}

TEST(Generator, BadSpecIsAnErrorNamingTheRegister) {
  std::ifstream in(source_dir() / "spec" / "address_map.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string spec = ss.str();
  // Move pv_ctrl's CMD_ROW onto CMD_TILE's offset.
  const std::string from = R"("name": "CMD_ROW", "offset": "0x004")";
  const auto pos = spec.find(from);
  ASSERT_NE(pos, std::string::npos);
  spec.replace(pos, from.size(), R"("name": "CMD_ROW", "offset": "0x000")");
  const auto root = copy_outputs("bad");
  const auto spec_path = root / "bad.json";
  std::ofstream(spec_path) << spec;
  const auto [rc, out] =
      run(gen_regs() + " --check --spec " + spec_path.string() + " --root " + root.string());
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("pv_ctrl"), std::string::npos) << out;
  EXPECT_NE(out.find("CMD_ROW"), std::string::npos) << out;
}
