// TLM error responses of the tile target (register map from spec/address_map.json):
// unmapped and misaligned addresses, wrong access sizes, byte enables, unknown
// commands, writes to read-only registers, reads of write-only ones; commands rejected
// in STATUS (bad configuration, bad cell); buffer accesses beyond the window or while
// busy; debug accesses without side effects.
#include <gtest/gtest.h>
#include <systemc>

#include "sim/sc_support.hpp"
#include "tile/tile_regs.hpp"
#include "tile/tile_sc.hpp"
#include "tile_tb_util.hpp"

namespace mt = memplast::tile;
namespace rg = memplast::tile::regs;
using memplast::sim::ns;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, mt::TileModule& t) : sc_module(n), ini("ini"), tile(t) {
    ini.socket.bind(t.socket);
    SC_THREAD(run);
  }

  std::uint32_t err_code() {
    return (ini.read32(rg::STATUS) & rg::STATUS_ERR_CODE_MASK) >> rg::STATUS_ERR_CODE_SHIFT;
  }
  void clear_errors() {
    EXPECT_EQ(ini.write32(rg::CMD, rg::CMD_OP_CLEAR_ERROR), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.write32(rg::IRQ_STATUS, rg::IRQ_STATUS_ERROR_MASK), tlm::TLM_OK_RESPONSE);
  }

  void run() {
    using tlm::TLM_READ_COMMAND;
    using tlm::TLM_WRITE_COMMAND;
    sc_time d = sc_core::SC_ZERO_TIME;
    std::uint32_t v = 0;
    // Read-only configuration readback.
    EXPECT_EQ(ini.read32(rg::ROWS), 128U);
    EXPECT_EQ(ini.read32(rg::COLS), 128U);
    EXPECT_EQ(ini.read32(rg::ADC_BITS), 8U);
    EXPECT_EQ(ini.read32(rg::DAC_BITS), 8U);
    EXPECT_EQ(ini.read32(rg::COLS_PER_ADC), 8U);
    EXPECT_EQ(ini.read32(rg::BUF_VECTORS), 100U);
    EXPECT_EQ(ini.read32(rg::CONFIG),
              1U << rg::CONFIG_N_VECTORS_SHIFT);  // reset: 1 vector, amplitude
    // Unmapped: a hole in the register page, past the registers, past the tile's span.
    EXPECT_EQ(ini.read32(0x38, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(ini.read32(0x1000, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(ini.read32(0x100000, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // Misaligned and wrong size.
    EXPECT_EQ(ini.read32(rg::STATUS + 2, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    std::uint16_t h = 0;
    EXPECT_EQ(ini.access(TLM_READ_COMMAND, rg::STATUS, &h, 2, d), tlm::TLM_BURST_ERROR_RESPONSE);
    std::uint64_t w = 0;
    EXPECT_EQ(ini.access(TLM_READ_COMMAND, rg::STATUS, &w, 8, d), tlm::TLM_BURST_ERROR_RESPONSE);
    unsigned char be[4] = {0xFF, 0xFF, 0, 0};
    EXPECT_EQ(ini.access(TLM_WRITE_COMMAND, rg::CONFIG, &v, 4, d, be),
              tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    EXPECT_EQ(d, sc_core::SC_ZERO_TIME);  // refused accesses cost nothing
    // Read-only / write-only.
    EXPECT_EQ(ini.write32(rg::ROWS, 64), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(ini.read32(rg::ROWS), 128U);
    EXPECT_EQ(ini.write32(rg::STATUS, 0), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(ini.write32(rg::VERIFY_G_NSIEMENS, 0), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(ini.read32(rg::CMD, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
    // Unknown command: a TLM command error, STATUS.ERROR with ERR_CODE BAD_OP and
    // IRQ_STATUS.ERROR; CLEAR_ERROR and W1C clear them.
    EXPECT_EQ(ini.read32(rg::STATUS), 0U);
    EXPECT_EQ(ini.write32(rg::CMD, 10), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(ini.read32(rg::STATUS) & rg::STATUS_ERROR_MASK, rg::STATUS_ERROR_MASK);
    EXPECT_EQ(err_code(), rg::STATUS_ERR_CODE_BAD_OP);
    EXPECT_EQ(ini.read32(rg::IRQ_STATUS), rg::IRQ_STATUS_ERROR_MASK);
    clear_errors();
    EXPECT_EQ(ini.read32(rg::STATUS), 0U);
    EXPECT_EQ(ini.read32(rg::IRQ_STATUS), 0U);
    // Bad configuration at command time: N_VECTORS 0, N_VECTORS > BUF_VECTORS, ENCODING 2.
    for (const std::uint32_t c :
         {0U, 101U << rg::CONFIG_N_VECTORS_SHIFT, (1U << rg::CONFIG_N_VECTORS_SHIFT) | 2U}) {
      EXPECT_EQ(ini.write32(rg::CONFIG, c), tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(ini.write32(rg::CMD, rg::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(err_code(), rg::STATUS_ERR_CODE_BAD_CONFIG) << c;
      clear_errors();
    }
    EXPECT_EQ(ini.write32(rg::CONFIG, 1U << rg::CONFIG_N_VECTORS_SHIFT), tlm::TLM_OK_RESPONSE);
    // Bad cell: row 128, or physical column 256 (differential: 0..255).
    EXPECT_EQ(ini.write32(rg::PROG_ROW, 128), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.write32(rg::CMD, rg::CMD_OP_VERIFY_READ), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(err_code(), rg::STATUS_ERR_CODE_BAD_CELL);
    clear_errors();
    EXPECT_EQ(ini.write32(rg::PROG_ROW, 0), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.write32(rg::PROG_COL, 256), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.write32(rg::CMD, rg::CMD_OP_SET_PULSE), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(err_code(), rg::STATUS_ERR_CODE_BAD_CELL);
    clear_errors();
    EXPECT_EQ(ini.read32(rg::OP_COUNT), 0U);  // nothing ran
    // Buffer windows: 128 x 100 floats = 51200 bytes each.
    std::vector<float> blk(16, 1.0F);
    EXPECT_EQ(ini.write_block(rg::INPUT_OFFSET + 51200 - 64, blk), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.write_block(rg::INPUT_OFFSET + 51200 - 60, blk), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(ini.write_block(rg::INPUT_OFFSET + 2, blk), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(ini.access(TLM_WRITE_COMMAND, rg::INPUT_OFFSET, &h, 2, d),
              tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(ini.write_block(rg::OUTPUT_OFFSET, blk),
              tlm::TLM_COMMAND_ERROR_RESPONSE);  // output is read-only
    // While busy: buffers refused; afterwards fine.
    EXPECT_EQ(ini.write32(rg::CMD, rg::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.write_block(rg::INPUT_OFFSET, blk), tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(ini.read_block(rg::OUTPUT_OFFSET, blk), tlm::TLM_GENERIC_ERROR_RESPONSE);
    wait(tile.done_event());
    EXPECT_EQ(ini.read_block(rg::OUTPUT_OFFSET, blk), tlm::TLM_OK_RESPONSE);
    // Debug: register readback without time; a debug write to CMD starts nothing.
    const sc_time t0 = sc_time_stamp();
    std::uint32_t r = 0;
    EXPECT_EQ(ini.debug(TLM_READ_COMMAND, rg::ROWS, &r, 4), 4U);
    EXPECT_EQ(r, 128U);
    std::uint32_t c = rg::CMD_OP_MVM_FWD;
    ini.debug(TLM_WRITE_COMMAND, rg::CMD, &c, 4);
    EXPECT_EQ(ini.debug(TLM_READ_COMMAND, 0x38, &r, 4), 0U);
    float f = 0;
    EXPECT_EQ(ini.debug(TLM_READ_COMMAND, rg::INPUT_OFFSET + 51200 - 4, &f, 4), 4U);
    EXPECT_EQ(f, 1.0F);
    EXPECT_EQ(sc_time_stamp(), t0);
    EXPECT_EQ(ini.read32(rg::STATUS), rg::STATUS_DONE_MASK);  // not busy: the debug CMD did nothing
    EXPECT_EQ(ini.read32(rg::OP_COUNT), 1U);
    finished = true;
  }

  tile_tb::Initiator ini;
  mt::TileModule& tile;
  bool finished{false};
};

}  // namespace

TEST(TileErrors, TlmErrorResponses) {
  mt::TileParams p;
  memplast::device::DeviceParams dp;
  mt::TileModule t("tile0", p, dp, 1, nullptr);
  Tb tb("tb", t);
  sc_core::sc_start();
  EXPECT_TRUE(tb.finished);
}
