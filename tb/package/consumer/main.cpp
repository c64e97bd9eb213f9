// An external program on the installed memplast package: it elaborates one tile
// (memplast::tile::TileModule) and drives it through its TLM-2.0 target socket only:
// geometry registers, one SET pulse, a verify read and a forward MVM through the input
// and output windows. Exits 0 when every check holds, 1 otherwise (and 2 if the
// simulation did not run to the end).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <memplast/common/version.hpp>
#include <memplast/sim/sc_support.hpp>
#include <memplast/tile/tile_regs.hpp>
#include <memplast/tile/tile_sc.hpp>
#include <systemc>
#include <tlm>

namespace mt = memplast::tile;
namespace rg = memplast::tile::regs;

namespace {

constexpr int kRows = 16;
constexpr int kCols = 8;
constexpr int kRow = 5;  // the programmed weight (kRow, kCol)
constexpr int kCol = 3;

struct Driver : sc_core::sc_module {
  SC_HAS_PROCESS(Driver);
  explicit Driver(const sc_core::sc_module_name& n, mt::TileModule& t)
      : sc_module(n), socket("socket"), tile(t) {
    SC_THREAD(run);
  }

  // One blocking transaction of `len` bytes; the annotated delay is waited for.
  bool access(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    socket->b_transport(gp, delay);
    wait(delay);
    return check(gp.is_response_ok(), "TLM response at 0x%llx",
                 static_cast<unsigned long long>(addr));
  }
  void write32(std::uint32_t addr, std::uint32_t v) { access(tlm::TLM_WRITE_COMMAND, addr, &v, 4); }
  std::uint32_t read32(std::uint32_t addr) {
    std::uint32_t v = 0xDEADBEEF;
    access(tlm::TLM_READ_COMMAND, addr, &v, 4);
    return v;
  }
  // Starts command `op` and waits for its end; STATUS must then read DONE. Returns the
  // time from the CMD write to the end of the operation.
  sc_core::sc_time command(std::uint32_t op) {
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    write32(rg::CMD, op);
    wait(tile.done_event());
    const sc_core::sc_time took = sc_core::sc_time_stamp() - t0;
    check(read32(rg::STATUS) == rg::STATUS_DONE_MASK, "STATUS DONE after op %u", op);
    return took;
  }

  template <typename... A>
  bool check(bool ok, const char* what, A... args) {
    if (!ok) {
      std::fprintf(stderr, "consumer: FAILED: ");
      std::fprintf(stderr, what, args...);
      std::fprintf(stderr, "\n");
      ++failures;
    }
    return ok;
  }

  void run() {
    check(read32(rg::ROWS) == kRows && read32(rg::COLS) == kCols, "ROWS/COLS registers");

    // G+ of weight (kRow, kCol) is at g_off (5 uS) until one SET pulse (gate 1.2 V:
    // compliance 151 uA/V^2 * (1.2 - 0.45 V)^2 = 85 uA, so about 106 uS).
    write32(rg::PROG_ROW, kRow);
    write32(rg::PROG_COL, kCol);
    command(rg::CMD_OP_VERIFY_READ);
    const std::uint32_t g_before = read32(rg::VERIFY_G_NSIEMENS);
    write32(rg::PROG_VOLTAGE_MV, 1200);
    command(rg::CMD_OP_SET_PULSE);
    command(rg::CMD_OP_VERIFY_READ);
    const std::uint32_t g_after = read32(rg::VERIFY_G_NSIEMENS);
    std::printf("consumer: G+(%d,%d) %.2f uS -> %.2f uS after one SET pulse\n", kRow, kCol,
                g_before / 1e3, g_after / 1e3);
    check(g_before > 3000 && g_before < 7000, "G before SET near g_off: %u nS", g_before);
    check(g_after > 60000 && g_after < 160000, "G after SET near 106 uS: %u nS", g_after);

    // Forward MVM of the one-hot input e_kRow: column kCol carries the programmed weight
    // ((G+ - G-) / (g_on - g_off), about 0.5), every other column about 0.
    std::vector<float> x(kRows, 0.0F);
    x[kRow] = 1.0F;
    access(tlm::TLM_WRITE_COMMAND, rg::INPUT_OFFSET, x.data(), 4 * kRows);
    const sc_core::sc_time took = command(rg::CMD_OP_MVM_FWD);
    // One ADC per column: t_dac + t_settle + (adc_bits + 2) / f_adc = 1 + 10 + 50 ns.
    check(took == memplast::sim::ns(61), "MVM took %s, expected 61 ns", took.to_string().c_str());
    check(read32(rg::LAST_LATENCY_NS) == 61, "LAST_LATENCY_NS 61");
    std::vector<float> y(kCols, -99.0F);
    access(tlm::TLM_READ_COMMAND, rg::OUTPUT_OFFSET, y.data(), 4 * kCols);
    std::printf("consumer: y =");
    for (float v : y) std::printf(" %.4f", static_cast<double>(v));
    std::printf("\n");
    for (int j = 0; j < kCols; ++j) {
      if (j == kCol) {
        check(y[j] > 0.3F && y[j] < 0.8F, "y[%d] = %f, expected about 0.5", j,
              static_cast<double>(y[j]));
      } else {
        check(std::fabs(y[j]) < 0.1F, "y[%d] = %f, expected about 0", j, static_cast<double>(y[j]));
      }
    }
    check(read32(rg::OP_COUNT) == 4, "OP_COUNT 4 (2 verify reads, SET, MVM)");
    finished = true;
  }

  tlm_utils::simple_initiator_socket<Driver> socket;
  mt::TileModule& tile;
  int failures{0};
  bool finished{false};
};

}  // namespace

int sc_main(int, char*[]) {
  memplast::sim::install_report_handler(true);
  mt::TileParams p;
  p.rows = kRows;
  p.cols = kCols;
  p.cols_per_adc = 1;
  const memplast::device::DeviceParams dp;
  mt::TileModule tile("tile", p, dp, /*global_seed=*/1, /*ledger=*/nullptr);
  Driver drv("drv", tile);
  drv.socket.bind(tile.socket);
  sc_core::sc_start();
  std::printf("consumer: memplast %s, %d failed checks, %llu SystemC warnings/errors\n",
              memplast::kVersion, drv.failures,
              static_cast<unsigned long long>(memplast::sim::report_failures()));
  if (!drv.finished) return 2;
  return drv.failures == 0 && memplast::sim::report_failures() == 0 ? 0 : 1;
}
