// The address map follows the configuration and the firmware discovers it (issue 19):
// a system of 64 x 64 tiles and a 784-2048-10 network needs 13 x 32 + 32 = 448 tiles,
// more than the first tile placement holds (256), so they sit at the second placement
// (regs::tile::kPlacements). One elaboration, one sc_start; in the firmware:
//  * drivers::discover reads sysctl's N_TILES, TILE_ROWS, TILE_COLS, LAYERS, TILE_BASE and
//    TILE_STRIDE as the top configured them (448, 64, 64, 2, the second placement, 1 MiB);
//  * the last tile's registers decode (its ROWS and COLS read 64) and the address one
//    stride past it is TLM_ADDRESS_ERROR_RESPONSE, as is tile 448 through Geometry;
//  * sysctl's TILE_IRQ window has ceil(448 / 32) = 14 words; word 14 is an address error;
//  * what the firmware needs and the hardware lacks is an error naming the register
//    (sysctl.LAYERS for three layers, sysctl.N_TILES for a wider network,
//    sysctl.TILE_ROWS / TILE_COLS for a layout of other tiles);
//  * HalAccelerator (with an update path that programs nothing) sizes itself from it:
//    448 tiles, and a forward MVM of each layer completes on tiles 0..415 and 416..447,
//    the firmware waiting on TILE_IRQ_LO/HI and the TILE_IRQ window words.
#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

#include "bus/gen/regs.hpp"
#include "config/config.hpp"
#include "fw/trainer.hpp"
#include "sw/drivers/geometry.hpp"
#include "sw/drivers/hal_accelerator.hpp"
#include "sw/include/memplast_regs.h"
#include "system/top.hpp"

namespace {

namespace mp = memplast;
using mp::hal::HalError;
using mp::hal::Response;

// HalAccelerator's update path, doing nothing: the tiles keep their reset state.
class NoUpdate : public mp::drivers::UpdatePath {
 public:
  void init() override {}
  void read_weights(int /*layer*/, float* /*w*/) override {}
  void accumulate(int /*layer*/, const float* /*grad*/) override {}
  std::size_t update() override { return 0; }
  void new_task() override {}
  [[nodiscard]] std::uint64_t memory_hidden_bits() const override { return 0; }
  [[nodiscard]] std::uint64_t memory_optimizer_bits() const override { return 0; }
  [[nodiscard]] std::uint64_t memory_stored_bits() const override { return 0; }
};

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

void expect_address_error(mp::hal::Hal& hal, std::uint64_t addr) {
  try {
    (void)hal.read32(addr);
    ADD_FAILURE() << "read at " << std::hex << addr << " did not fail";
  } catch (const HalError& e) {
    EXPECT_EQ(e.response(), Response::address_error) << e.what();
  }
}

}  // namespace

TEST(Geometry, DiscoveredFromSysctlBeyond256Tiles) {
  mp::Config cfg;
  (void)mp::make_schema(cfg);
  cfg.train.hidden = 2048;
  cfg.tile.rows = 64;
  cfg.tile.cols = 64;
  cfg.tile.read_noise = false;
  const auto shapes = mp::fw::Trainer::shapes(cfg.train);
  constexpr unsigned kTiles = 13 * 32 + 32;
  static_assert(kTiles > 256, "the test needs the second placement");
  const std::uint64_t base = mp::regs::tile::placement_base(kTiles);
  ASSERT_EQ(base, mp::regs::tile::kPlacements[1].base);
  bool ran = false;
  auto firmware = [&](mp::hal::Hal& hal) {
    const double t0 = hal.now_ns();
    const auto g = mp::drivers::discover(hal);
    EXPECT_GT(hal.now_ns(), t0);  // timed register reads over the bus
    EXPECT_EQ(g.n_tiles, kTiles);
    EXPECT_EQ(g.tile_rows, 64U);
    EXPECT_EQ(g.tile_cols, 64U);
    EXPECT_EQ(g.layers, 2U);
    EXPECT_EQ(g.tile_base, base);
    EXPECT_EQ(g.tile_stride, MP_TILE_STRIDE);
    EXPECT_EQ(hal.read32(MP_SYSCTL_BASE + MP_SYSCTL_TILE_BASE), base);  // timed read agrees
    // Decoding at the top of the tile region, and past it.
    const std::uint64_t last = g.tile_addr(kTiles - 1);
    EXPECT_EQ(last, base + (kTiles - 1) * std::uint64_t{MP_TILE_STRIDE});
    EXPECT_EQ(hal.read32(last + MP_TILE_ROWS), 64U);
    EXPECT_EQ(hal.read32(last + MP_TILE_COLS), 64U);
    expect_address_error(hal, last + MP_TILE_STRIDE + MP_TILE_ROWS);
    expect_address_error(hal, MP_TILE_ADDR(0) + MP_TILE_ROWS);  // first placement: empty
    EXPECT_NE(error_of([&] { (void)g.tile_addr(kTiles); }).find("sysctl.N_TILES = 448"),
              std::string::npos);
    // TILE_IRQ: 14 words, nothing pending yet.
    EXPECT_EQ(hal.read32(MP_SYSCTL_BASE + MP_SYSCTL_TILE_IRQ_OFFSET + 4 * 13), 0U);
    expect_address_error(hal, MP_SYSCTL_BASE + MP_SYSCTL_TILE_IRQ_OFFSET + 4 * 14);
    // Mismatches name the register.
    const std::vector<mp::fw::LayerShape> three{{784, 2048}, {2048, 2048}, {2048, 10}};
    EXPECT_NE(error_of([&] { (void)g.require(three); }).find("sysctl.LAYERS = 2"),
              std::string::npos);
    const std::vector<mp::fw::LayerShape> wide{{784, 4096}, {4096, 10}};
    EXPECT_NE(error_of([&] { (void)g.require(wide); }).find("sysctl.N_TILES = 448"),
              std::string::npos);
    EXPECT_EQ(g.require({shapes.begin(), shapes.end()}), kTiles);
    EXPECT_NE(error_of([&] { g.require_tile(128, 64); }).find("sysctl.TILE_ROWS = 64"),
              std::string::npos);
    EXPECT_NE(error_of([&] { g.require_tile(64, 128); }).find("sysctl.TILE_COLS = 64"),
              std::string::npos);
    // The firmware's accelerator sized from it; MVMs over every tile complete.
    NoUpdate none;
    mp::drivers::HalAccelerator acc(hal, shapes, none, mp::system::kIrqLine);
    EXPECT_EQ(acc.tiles_used(), kTiles);
    EXPECT_EQ(acc.geometry().tile_base, base);
    EXPECT_EQ(acc.tile_of(1, 0, 0), 13U * 32U);
    std::vector<float> x(784, 0.5F), h(2048, 0.0F), h_in(2048, 0.25F), y(10, 0.0F);
    acc.forward(0, x.data(), 1, h.data());
    acc.forward(1, h_in.data(), 1, y.data());
    for (float v : h) EXPECT_TRUE(std::isfinite(v));
    for (float v : y) EXPECT_TRUE(std::isfinite(v));
    ran = true;
  };
  mp::system::System top(cfg, shapes, firmware, true);
  EXPECT_EQ(top.n_tiles(), kTiles);
  sc_core::sc_start();
  EXPECT_TRUE(ran);
  // Each MVM reached its own tile: every one of the 448 ran a register-started operation
  // (an address decoded to the wrong tile leaves another idle), and layer 1's tiles
  // started only after every layer-0 tile had ended (its input is layer 0's output).
  const unsigned l0 = 13U * 32U;
  sc_core::sc_time l0_end = sc_core::SC_ZERO_TIME;
  sc_core::sc_time l1_start = sc_core::sc_max_time();
  for (unsigned i = 0; i < kTiles; ++i) {
    auto& t = top.tile(i);
    EXPECT_GT(t.op_end(), sc_core::SC_ZERO_TIME) << "tile " << i << " never ran an MVM";
    if (i < l0)
      l0_end = std::max(l0_end, t.op_end());
    else
      l1_start = std::min(l1_start, t.op_start());
  }
  EXPECT_LE(l0_end, l1_start);
  if (top.host().error()) {
    try {
      std::rethrow_exception(top.host().error());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the firmware threw: " << e.what();
    }
  }
}
