// The tile's side of fault injection and column repair (docs/reliability.md):
// device.stuck_cells parsing and errors, cells that stick at a given simulated time
// (wear-out at a time), spare columns and remap_column; the HAL's bus-error retry
// (hal::RetryHal) against a fake HAL.
#include <cstring>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "device/device_params.hpp"
#include "sw/hal/retry_hal.hpp"
#include "tile/tile_core.hpp"

namespace {

namespace mp = memplast;

mp::tile::TileParams small_tile() {
  mp::tile::TileParams p;
  p.rows = 8;
  p.cols = 4;
  p.read_noise = false;
  return p;
}

// A HAL over 64 bytes of memory at 0x1000, moving blocks in 16-byte bursts, that
// answers the accesses whose sequence numbers are in `fail` with `response`.
class FakeHal : public mp::hal::Hal {
 public:
  std::vector<std::uint8_t> mem = std::vector<std::uint8_t>(64, 0);
  std::set<int> fail;
  mp::hal::Response response{mp::hal::Response::generic_error};
  int seq{0};
  int bursts_written{0};

  std::uint32_t read32(std::uint64_t addr) override {
    check("read32", addr, 4);
    std::uint32_t v = 0;
    std::memcpy(&v, &mem[addr - 0x1000], 4);
    return v;
  }
  void write32(std::uint64_t addr, std::uint32_t value) override {
    check("write32", addr, 4);
    std::memcpy(&mem[addr - 0x1000], &value, 4);
  }
  void write_block(std::uint64_t addr, const void* src, std::size_t bytes) override {
    for (std::size_t done = 0; done < bytes; done += 16) {
      check("write_block", addr + done, 16);
      std::memcpy(&mem[addr + done - 0x1000], static_cast<const std::uint8_t*>(src) + done, 16);
      ++bursts_written;
    }
  }
  void read_block(std::uint64_t addr, void* dst, std::size_t bytes) override {
    for (std::size_t done = 0; done < bytes; done += 16) {
      check("read_block", addr + done, 16);
      std::memcpy(static_cast<std::uint8_t*>(dst) + done, &mem[addr + done - 0x1000], 16);
    }
  }
  std::uint32_t wait_irq(std::uint32_t mask) override { return mask; }
  std::uint32_t irq_lines() override { return 0; }
  void charge_compute(std::uint64_t) override {}
  void charge_macs(std::uint64_t) override {}
  void advance(std::uint64_t) override {}
  double now_ns() override { return 0.0; }

 private:
  void check(const char* op, std::uint64_t addr, std::size_t bytes) {
    if (fail.count(seq++) != 0) throw mp::hal::HalError(op, addr, bytes, response);
  }
};

}  // namespace

TEST(Faults, RetryHalResumesBlockAtFailedBurst) {
  FakeHal fake;
  fake.fail = {2, 3};  // the third burst fails twice
  mp::hal::RetryHal hal(fake, 2);
  std::vector<std::uint8_t> src(64);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<std::uint8_t>(i + 1);
  hal.write_block(0x1000, src.data(), 64);
  EXPECT_EQ(fake.mem, src);
  EXPECT_EQ(fake.bursts_written, 4);  // no burst written twice
  EXPECT_EQ(hal.retries(), 2U);
  std::vector<std::uint8_t> back(64);
  fake.fail = {fake.seq};  // the next access (burst 0 of the read) fails once
  hal.read_block(0x1000, back.data(), 64);
  EXPECT_EQ(back, src);
  EXPECT_EQ(hal.retries(), 3U);
  // The limit is per burst: one failure on each of three bursts, limit 1, goes through.
  mp::hal::RetryHal once(fake, 1);
  fake.fail = {fake.seq, fake.seq + 2, fake.seq + 4};
  std::vector<std::uint8_t> again(64);
  once.read_block(0x1000, again.data(), 64);
  EXPECT_EQ(again, src);
  EXPECT_EQ(once.retries(), 3U);
}

TEST(Faults, RetryHalGivesUpNamingTheAddress) {
  FakeHal fake;
  fake.fail = {0, 1, 2};
  mp::hal::RetryHal hal(fake, 2);
  try {
    (void)hal.read32(0x1008);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "HAL read32 at 0x00001008 (4 bytes): TLM_GENERIC_ERROR_RESPONSE; still failing "
                 "after 2 retries (faults.retry_limit): giving up on the access at 0x00001008");
  }
  EXPECT_EQ(hal.retries(), 2U);
  // Not a transient: an address error is not retried.
  fake.fail = {fake.seq};
  fake.response = mp::hal::Response::address_error;
  EXPECT_THROW(hal.write32(0x1000, 1), mp::hal::HalError);
  EXPECT_EQ(hal.retries(), 2U);
}

TEST(Faults, StuckCellsParse) {
  const auto v =
      mp::device::parse_stuck_cells(" layer0_t3:12:40:pos:lrs@0.5;layer1_t0:0:3:neg:hrs ;");
  ASSERT_EQ(v.size(), 2U);
  EXPECT_EQ(v[0].tile, "layer0_t3");
  EXPECT_EQ(v[0].row, 12);
  EXPECT_EQ(v[0].col, 40);
  EXPECT_FALSE(v[0].neg);
  EXPECT_TRUE(v[0].lrs);
  EXPECT_DOUBLE_EQ(v[0].t_s, 0.5);
  EXPECT_TRUE(v[1].neg);
  EXPECT_FALSE(v[1].lrs);
  EXPECT_DOUBLE_EQ(v[1].t_s, 0.0);
  for (const char* bad :
       {"layer0_t0:1:2:pos", "layer0_t0:1:x:pos:lrs", "layer0_t0:1:2:mid:lrs",
        "layer0_t0:1:2:pos:low", "layer0_t0:1:2:pos:lrs@soon", "layer0_t0:1:2:pos:lrs@-1"}) {
    try {
      (void)mp::device::parse_stuck_cells(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const mp::cfg::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("device.stuck_cells"), std::string::npos) << e.what();
    }
  }
}

TEST(Faults, StuckCellOutsideTileIsAConfigError) {
  mp::device::DeviceParams dp;
  dp.stuck_cells = "t:0:6:pos:lrs";  // 4 weight + 2 spare columns: col 6 is outside
  auto p = small_tile();
  p.spare_cols = 2;
  EXPECT_THROW(mp::tile::TileCore(p, dp, 1, "t"), mp::cfg::ConfigError);
  dp.stuck_cells = "t:0:5:pos:lrs";  // the second spare column
  mp::tile::TileCore core(p, dp, 1, "t");
  EXPECT_EQ(core.array(mp::tile::Side::pos).stuck_count(), 1U);
}

TEST(Faults, CellSticksAtItsTime) {
  mp::device::DeviceParams dp;
  dp.relax_scale = 0;
  // A tile named hierarchically matches its full name or its last component.
  dp.stuck_cells = "t:2:1:neg:lrs@0.25; top.t:3:0:pos:hrs; u:3:1:pos:hrs";
  mp::tile::TileCore core(small_tile(), dp, 1, "top.t");
  auto& neg = core.array(mp::tile::Side::neg);
  auto& pos = core.array(mp::tile::Side::pos);
  EXPECT_EQ(pos.stuck(core.cell_index(3, 0)), mp::device::Stuck::at_hrs);
  EXPECT_EQ(pos.stuck(core.cell_index(3, 1)), mp::device::Stuck::none);  // tile "u"'s
  EXPECT_EQ(neg.stuck(core.cell_index(2, 1)), mp::device::Stuck::none);
  EXPECT_EQ(core.pending_stuck(), 1U);
  (void)core.verify_read(0, 0, mp::tile::Side::pos, 0.2);
  EXPECT_EQ(neg.stuck(core.cell_index(2, 1)), mp::device::Stuck::none);
  const double w_before = core.weights(0.2)(2, 1);
  (void)core.weights(0.3);  // an MVM's read of the weights after the time
  EXPECT_EQ(neg.stuck(core.cell_index(2, 1)), mp::device::Stuck::at_lrs);
  EXPECT_EQ(core.pending_stuck(), 0U);
  // G- at g_max (225 uS) against G+ at g_off: the weight reads about -(225 - 5) / 195.
  EXPECT_NEAR(w_before, 0.0, 0.05);
  EXPECT_LT(core.weights(0.3)(2, 1), -1.0);
}

TEST(Faults, RemapColumnToSpare) {
  auto p = small_tile();
  p.spare_cols = 2;
  mp::device::DeviceParams dp;
  dp.relax_scale = 0;
  dp.stuck_cells = "t:1:2:pos:lrs";  // weight (1, 2)'s G+ stuck at LRS
  mp::tile::TileCore core(p, dp, 1, "t");
  EXPECT_GT(core.weights(0.0)(1, 2), 1.0);
  const std::size_t own = core.cell_index(1, 2);
  core.remap_column(2, 1, true);
  EXPECT_EQ(core.remapped_to(2), 1);
  EXPECT_NE(core.cell_index(1, 2), own);
  EXPECT_EQ(core.cell_index(1, 2), 8U * 4U + 1U * 2U + 1U);  // R*C + row*S + spare
  // The spare devices hold the zero level: the weight reads 0 through them.
  EXPECT_NEAR(core.weights(0.0)(1, 2), 0.0, 1e-6);
  // Programming reaches the spare device, not the stuck one.
  core.program_ideal(1, 2, 2, 0.0);
  EXPECT_NEAR(core.weights(0.0)(1, 2), 1.0, 1e-6);
  EXPECT_GT(core.array(mp::tile::Side::pos).conductance(own, 0.0), 200.0);
  // A spare serves one column; out of range is refused.
  EXPECT_THROW(core.remap_column(3, 1, true), std::invalid_argument);
  EXPECT_THROW(core.remap_column(3, 2, true), std::out_of_range);
  EXPECT_THROW(core.remap_column(4, 0, true), std::out_of_range);
  core.remap_column(2, 0, false);
  EXPECT_EQ(core.remapped_to(2), -1);
  EXPECT_EQ(core.cell_index(1, 2), own);
  EXPECT_GT(core.weights(0.0)(1, 2), 1.0);
}

TEST(Faults, NoSpareColumnsKeepsTheLayout) {
  mp::device::DeviceParams dp;
  mp::tile::TileCore core(small_tile(), dp, 1, "t");
  EXPECT_EQ(core.spare_cols(), 0);
  EXPECT_EQ(core.array(mp::tile::Side::pos).size(), 32U);
  EXPECT_EQ(core.cell_index(7, 3), 31U);
  EXPECT_EQ(core.remapped_to(3), -1);
}

TEST(Faults, KeysHaveNoEffectByDefault) {
  mp::Config c;
  (void)mp::make_schema(c);
  EXPECT_EQ(c.tile.spare_cols, 0);
  EXPECT_TRUE(c.device.stuck_cells.empty());
  EXPECT_EQ(c.faults.pv_fail_rate, 0.0);
  EXPECT_EQ(c.faults.queue_drop_rate, 0.0);
  EXPECT_TRUE(c.faults.pv_fail_at_s.empty());
  EXPECT_TRUE(c.faults.queue_drop_at_s.empty());
  EXPECT_EQ(c.faults.bus_error_rate, 0.0);
  EXPECT_TRUE(c.faults.bus_error_at_s.empty());
  EXPECT_EQ(c.faults.adc_sat_rate, 0.0);
  EXPECT_TRUE(c.faults.adc_sat_at_s.empty());
  EXPECT_EQ(c.faults.dma_error_rate, 0.0);
  EXPECT_TRUE(c.faults.dma_error_at_s.empty());
}
