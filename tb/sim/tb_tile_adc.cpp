// ADC trim and ADC-range profiling through the tile's registers (tile.adc_calibration,
// tile.adc_range; docs/tile.md): a tile with injected per-column ADC offsets (3 LSB) and
// gains (5 %) converts a forward MVM more than 2 codes off the ideal codes; CMD.OP =
// ADC_TRIM takes the trim's latency (TileCore::adc_trim_cost) and charges its conversions
// to the ledger; afterwards the same MVM's codes are within 1 code (the ADC's LSB) of
// the ideal ones. Then PROFILE_FWD fills the PROFILE window with one count per
// conversion, and ADC_RANGE_FWD sets the full scale in profiling steps (values beyond
// 2^(ADC_BITS-1) refused).
#include <algorithm>
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>
#include <systemc>

#include "common/energy.hpp"
#include "sim/sc_support.hpp"
#include "tile/tile_regs.hpp"
#include "tile/tile_sc.hpp"
#include "tile_tb_util.hpp"

namespace mt = memplast::tile;
namespace rg = memplast::tile::regs;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr int kN = 16;           // rows = cols
constexpr int kV = 20;           // input vectors
constexpr double kHalf = 128.0;  // 2^(adc_bits-1)

struct Tb : sc_core::sc_module {
  SC_HAS_PROCESS(Tb);
  Tb(const sc_core::sc_module_name& n, mt::TileModule& t) : sc_module(n), ini("ini"), tile(t) {
    ini.socket.bind(t.socket);
    SC_THREAD(run);
  }

  // Largest |output code - ideal code| of a forward MVM of x through the registers.
  double mvm_error(const std::vector<float>& x) {
    EXPECT_EQ(ini.write_block(rg::INPUT_OFFSET, x), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.write32(rg::CONFIG, static_cast<std::uint32_t>(kV) << rg::CONFIG_N_VECTORS_SHIFT),
              tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.write32(rg::CMD, rg::CMD_OP_MVM_FWD), tlm::TLM_OK_RESPONSE);
    wait(tile.done_event());
    std::vector<float> y(static_cast<std::size_t>(kN * kV));
    EXPECT_EQ(ini.read_block(rg::OUTPUT_OFFSET, y), tlm::TLM_OK_RESPONSE);
    const auto& w = tile.core().weights(sc_time_stamp().to_seconds());
    const double step = tile.core().adc_step(mt::Direction::forward);
    double worst = 0;
    for (int v = 0; v < kV; ++v) {
      for (int j = 0; j < kN; ++j) {
        double s = 0;
        for (int i = 0; i < kN; ++i)
          s += static_cast<double>(x[static_cast<std::size_t>(v * kN + i)]) *
               static_cast<double>(w(i, j));
        const double ideal = std::clamp(std::nearbyint(s / step), -kHalf, kHalf - 1);
        const double code = static_cast<double>(y[static_cast<std::size_t>(v * kN + j)]) / step;
        worst = std::max(worst, std::abs(code - ideal));
      }
    }
    return worst;
  }

  void run() {
    std::vector<float> x(static_cast<std::size_t>(kN * kV));
    for (std::size_t i = 0; i < x.size(); ++i)  // DAC codes (exact after quantization)
      x[i] = static_cast<float>((i * 37 % 256) / 255.0);
    before = mvm_error(x);
    const sc_time t_cmd = sc_time_stamp();
    EXPECT_EQ(ini.write32(rg::CMD, rg::CMD_OP_ADC_TRIM), tlm::TLM_OK_RESPONSE);
    wait(tile.done_event());
    trim_time = sc_time_stamp() - t_cmd;
    after = mvm_error(x);
    // Profiling: one count per conversion (kV vectors x kN columns, amplitude, unsigned).
    EXPECT_EQ(ini.write32(rg::CMD, rg::CMD_OP_PROFILE_FWD), tlm::TLM_OK_RESPONSE);
    wait(tile.done_event());
    std::vector<float> raw(static_cast<std::size_t>(kHalf) + 1);
    EXPECT_EQ(ini.read_block(rg::PROFILE_OFFSET, raw), tlm::TLM_OK_RESPONSE);
    for (const float f : raw) {
      std::uint32_t c = 0;
      std::memcpy(&c, &f, 4);
      profile_total += c;
    }
    std::vector<float> beyond(static_cast<std::size_t>(kHalf) + 2);
    EXPECT_EQ(ini.read_block(rg::PROFILE_OFFSET, beyond), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(ini.write32(rg::ADC_RANGE_FWD, 5), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(ini.read32(rg::ADC_RANGE_FWD), 5U);
    fs_after_range = tile.core().adc_full_scale(mt::Direction::forward);
    EXPECT_EQ(ini.write32(rg::ADC_RANGE_FWD, 129), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(ini.read32(rg::ADC_RANGE_FWD), 5U);
    EXPECT_EQ(ini.write32(rg::ADC_RANGE_FWD, 0), tlm::TLM_OK_RESPONSE);
    fs_default = tile.core().adc_full_scale(mt::Direction::forward);
    finished = true;
  }

  tile_tb::Initiator ini;
  mt::TileModule& tile;
  double before{0};
  double after{0};
  sc_time trim_time;
  std::uint64_t profile_total{0};
  double fs_after_range{0};
  double fs_default{0};
  bool finished{false};
};

}  // namespace

TEST(TileAdc, TrimThroughRegistersRecoversOffsetsAndGainsAndProfiles) {
  memplast::EnergyLedger ledger;
  mt::TileParams p;
  p.rows = kN;
  p.cols = kN;
  p.read_noise = false;
  p.adc_offset_sigma_lsb = 3.0;
  p.adc_gain_sigma = 0.05;
  p.adc_range_fraction = 0.5;
  p.adc_range = "profile_tile";
  memplast::device::DeviceParams dp;
  mt::TileModule t("tile0", p, dp, 7, &ledger);
  // Random ternary weights (deterministic pattern).
  for (int r = 0; r < kN; ++r)
    for (int c = 0; c < kN; ++c) t.core().program_ideal(r, c, (r * 7 + c * 3) % 3, 0.0);
  Tb tb("tb", t);
  sc_core::sc_start();
  ASSERT_TRUE(tb.finished);
  std::printf("ADC trim through CMD: worst code error %.0f before, %.0f after; %.1f ns\n",
              tb.before, tb.after, tb.trim_time.to_seconds() * 1e9);
  EXPECT_GT(tb.before, 2.0);
  EXPECT_LE(tb.after, 1.0);
  const mt::OpCost c = t.core().adc_trim_cost();
  EXPECT_EQ(tb.trim_time, sc_time(c.latency_s, sc_core::SC_SEC));
  // Ledger: the trim's conversions on top of the 3 MVMs (2 x MVM, 1 profile) of kV x kN.
  std::uint64_t n_adc = 0;
  double e_adc = 0;
  for (const auto& e : ledger.entries()) {
    if (e.component == "tile0" && e.operation == "adc") {
      n_adc = e.count;
      e_adc = e.joules;
    }
  }
  EXPECT_EQ(n_adc, 4U);  // operations charging the adc phase
  const double e_conv = 50e-15 * 256;
  EXPECT_NEAR(e_adc, (3.0 * kV * kN + static_cast<double>(c.conversions)) * e_conv, 1e-15);
  EXPECT_EQ(tb.profile_total, static_cast<std::uint64_t>(kV * kN));
  EXPECT_DOUBLE_EQ(tb.fs_after_range, 5.0 * kN / kHalf);
  EXPECT_DOUBLE_EQ(tb.fs_default, 0.5 * kN);
}
