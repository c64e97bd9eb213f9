// The tile's side of fault injection and column repair (docs/reliability.md):
// device.stuck_cells parsing and errors, cells that stick at a given simulated time
// (wear-out at a time), spare columns and remap_column.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "device/device_params.hpp"
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

}  // namespace

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
}
