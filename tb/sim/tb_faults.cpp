// Fault injection and the firmware's recovery (docs/reliability.md), one fault kind per
// CTest test: the binary holds one TEST per kind, and CTest runs each alone
// (--gtest_filter), so every process elaborates once. Each test builds the system top
// on a small network (784-32-10 on 64 x 16 tiles: layer 0 on 13 x 2 tiles, layer 1 on
// one), injects its fault, and runs the firmware's initial programming
// (HalAccelerator's set-up: MetaPvUpdatePath::init) and one metaplastic update step with a large
// gradient (meta_unit pushes its level changes to pv_ctrl over the link), then checks what pv_ctrl
// and the firmware's recovery counted and the state they left:
//   StuckAtLrs  : both devices of two weights stuck at LRS (device.stuck_cells): each
//                 fails, is retried faults.retry_limit times, then marked skipped (no
//                 spare columns); later commands for it are discarded.
//   StuckAtHrs  : 2 % of the devices stuck at HRS (device.stuck_rate, stuck_lrs_prob 0):
//                 with 2 spare columns per tile, the columns with the most failed
//                 weights are remapped and the rest skipped; every weight either
//                 programmed, in a remapped column, or skipped.
//   WearOut     : endurance budget of ~6 pulses: devices wear out during the run
//                 (worn-out stuck cells appear), the firmware retries and skips them.
//   PvFail      : faults.pv_fail_rate = 1 % transient P&V failures (and one at a given
//                 time): every one is recovered by a retry, nothing skipped, and every
//                 weight's programmed level equals meta_unit's LEVELS.
//   QueueDrop   : faults.queue_drop_rate = 1 % of the commands lost as in a queue
//                 overflow (init through the registers, the update through the link):
//                 the firmware re-pushes each; every programmed level equals LEVELS.
//   Remap       : both devices of weight (5, 3) of layer 1's tile stuck at LRS, one
//                 spare column: the column is remapped to spare 0 and reprogrammed, the
//                 weight reads its level through the spare column, nothing skipped.
//   BusError    : faults.bus_error_rate = 1 % of the host's bus accesses (and the very
//                 first) answered with TLM_GENERIC_ERROR_RESPONSE by the bus: the HAL
//                 (hal::RetryHal) retries each once it failed, the run completes and
//                 every programmed level equals LEVELS.
//   BusErrorExhausted : every host access fails (rate 1), faults.retry_limit = 2: the
//                 first access is tried 3 times, then the firmware fails with an error
//                 naming the operation, the address and the retry limit.
//   AdcSaturation : after init, forward MVMs of layer 0 (13 x 2 tiles) through
//                 HalAccelerator: the first MVM of tile 0 gets a saturated ADC
//                 (faults.adc_sat_at_s, adc_sat_tile 0): flagged, re-run once, and the
//                 output equals a clean run's; the same fault with the recovery off
//                 changes the output of that ADC's 8 lines; an out-of-range signal
//                 (tile 0's ADC full scale below its largest output) still saturates
//                 after retry_limit re-runs and is recovered with halved inputs.
//   DmaError    : the same MVMs with tile data moved by DMA: the first DMA access fails
//                 (faults.dma_error_at_s): the chain stops with STATUS.ERROR and
//                 IRQ_STATUS.ERROR, the driver restarts it from the failed descriptor, the
//                 output equals a clean run's; then every DMA access fails: each chain is
//                 restarted retry_limit times, then moved by programmed I/O, same output.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

#include "compare.hpp"
#include "config/config.hpp"
#include "fw/trainer.hpp"
#include "sim/sc_support.hpp"
#include "sw/drivers/dma_driver.hpp"
#include "sw/drivers/hal_accelerator.hpp"
#include "sw/drivers/meta_pv_update.hpp"
#include "sw/hal/retry_hal.hpp"
#include "system/top.hpp"

namespace {

namespace mp = memplast;

mp::Config small_config() {
  mp::Config c;
  (void)mp::make_schema(c);  // defaults
  c.train.hidden = 32;
  c.tile.rows = 64;
  c.tile.cols = 16;
  c.tile.read_noise = false;
  c.train.device_effects = true;
  c.pv.queue_depth = 64;
  return c;
}

struct Outcome {
  mp::drivers::RecoveryStats rec;
  mp::pv::PvCtrlStats pv;
  std::size_t changes{0};
  std::size_t level_mismatches{0};  // weights (not skipped) whose programmed level != LEVELS
  std::size_t weights{0};
  std::uint64_t stuck{0};
  std::uint64_t worn{0};
  std::uint64_t bus_injected{0};  // the bus's injected error responses
  std::uint64_t bus_retries{0};   // the firmware HAL's retries
  std::uint64_t bus_errors{0};    // error responses the host got (router statistics)
  std::string error;              // what the firmware threw, if it did
};

// The state pv_ctrl and the tiles were left in: programmed levels against LEVELS,
// stuck and worn-out devices.
void inspect(mp::system::System& top, Outcome& out) {
  // Every weight: its programmed level (pv_ctrl) against meta_unit's LEVELS.
  const std::int8_t* levels = top.meta_unit().engine().levels();
  std::size_t base = 0;
  std::size_t first_tile = 0;
  for (int l = 0; l < 2; ++l) {
    const auto& pl = top.placement(l);
    for (int r = 0; r < pl.layer_rows; ++r) {
      for (int c = 0; c < pl.layer_cols; ++c) {
        const auto loc = pl.locate(r, c);
        const int lv = top.pv_ctrl().level_of(first_tile + static_cast<std::size_t>(loc.tile),
                                              loc.row, loc.col);
        const int want = levels[base + static_cast<std::size_t>(r * pl.layer_cols + c)];
        ++out.weights;
        if (lv != want) ++out.level_mismatches;
      }
    }
    base += static_cast<std::size_t>(pl.layer_rows * pl.layer_cols);
    first_tile += pl.blocks.size();
  }
  for (std::size_t t = 0; t < top.n_tiles(); ++t) {
    for (auto side : {mp::tile::Side::pos, mp::tile::Side::neg}) {
      const auto& a = top.tile(t).core().array(side);
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (a.stuck(i) == mp::device::Stuck::none) continue;
        ++out.stuck;
        if (a.pulses(i) > a.budget(i)) ++out.worn;
      }
    }
  }
}

// The update path's layout for `cfg`: its geometry, bus retries, and the initial hidden
// weights, which the firmware loads through HIDDEN (no back door).
mp::drivers::MetaPvLayout base_layout(const mp::Config& cfg,
                                      const std::vector<mp::fw::LayerShape>& shapes) {
  mp::drivers::MetaPvLayout layout;
  layout.shapes = shapes;
  layout.tile_rows = static_cast<unsigned>(cfg.tile.rows);
  layout.tile_cols = static_cast<unsigned>(cfg.tile.cols);
  layout.retry_limit = static_cast<unsigned>(cfg.faults.retry_limit);
  layout.hidden =
      mp::fw::Trainer::initial_hidden(cfg.train, static_cast<std::uint64_t>(cfg.sim.seed));
  return layout;
}

// Runs init + one update on `cfg`; `check` runs in the firmware thread at the end with
// the system (to look at tiles and pv_ctrl state).
// `expect_error`: the firmware is expected to throw (its message goes to Outcome::error).
Outcome run(const mp::Config& cfg, const std::function<void(mp::system::System&)>& check = {},
            bool expect_error = false) {
  const auto shapes = mp::fw::Trainer::shapes(cfg.train);
  auto layout = base_layout(cfg, shapes);
  layout.remap = cfg.faults.remap;
  layout.skip = cfg.faults.skip;
  layout.spare_cols = static_cast<unsigned>(cfg.tile.spare_cols);
  mp::system::System* sys = nullptr;
  Outcome out;
  auto firmware = [&](mp::hal::Hal& host_hal) {
    // As the training firmware: every access retries a bus error (faults.retry_limit).
    mp::hal::RetryHal hal(host_hal, static_cast<std::uint64_t>(cfg.faults.retry_limit));
    struct Count {  // the retries also when the firmware throws
      mp::hal::RetryHal& h;
      Outcome& o;
      ~Count() { o.bus_retries = h.retries(); }
    } count{hal, out};
    mp::drivers::MetaPvUpdatePath up(hal, layout, mp::system::kIrqLine);
    // The accelerator driver enables the interrupts and runs init (the P&V of all).
    mp::drivers::HalAccelerator acc(hal, shapes, up, mp::system::kIrqLine);
    // A gradient large enough to move many weights across a threshold in one step.
    for (int l = 0; l < 2; ++l) {
      const auto n =
          shapes[static_cast<std::size_t>(l)].in * shapes[static_cast<std::size_t>(l)].out;
      std::vector<float> g(n);
      for (std::size_t i = 0; i < n; ++i) g[i] = (i % 3 == 0 ? 1.0F : -1.0F) * 50.0F;
      up.accumulate(l, g.data());
    }
    out.changes = up.update();
    out.rec = up.recovery();
    if (check) check(*sys);
  };
  mp::system::System top(cfg, shapes, firmware, true);
  sys = &top;
  sc_core::sc_start();
  if (!expect_error) {
    EXPECT_TRUE(top.host().finished()) << "blocked on interrupt mask " << top.host().waiting_on()
                                       << " at " << sc_core::sc_time_stamp();
  }
  out.error = tb::firmware_error(top.host().error());
  if (!out.error.empty() && !expect_error) ADD_FAILURE() << "firmware threw: " << out.error;
  if (expect_error) {
    EXPECT_FALSE(out.error.empty()) << "the firmware did not fail";
  }
  out.bus_injected = top.router().injected_errors();
  out.bus_errors = top.router().stats(0).errors;
  out.pv = top.pv_ctrl().stats();
  inspect(top, out);
  return out;
}

}  // namespace

TEST(Faults, StuckAtLrs) {
  auto cfg = small_config();
  // Two weights of layer 1's tile (the 27th tile: layer 0 has 13 x 2) with both devices
  // stuck at LRS: whatever the level, one device must be at g_off, so P&V always fails.
  cfg.device.stuck_cells =
      "layer1_t0:5:3:pos:lrs; layer1_t0:5:3:neg:lrs; layer1_t0:9:7:pos:lrs; "
      "layer1_t0:9:7:neg:lrs";
  cfg.faults.retry_limit = 2;
  const auto o = run(cfg, [](mp::system::System& sys) {
    EXPECT_EQ(
        sys.tile(26).core().array(mp::tile::Side::pos).stuck(sys.tile(26).core().cell_index(5, 3)),
        mp::device::Stuck::at_lrs);
  });
  EXPECT_EQ(o.stuck, 4U);
  EXPECT_EQ(o.rec.skipped_weights, 2U);
  EXPECT_EQ(o.rec.failed_weights, 2U);
  EXPECT_EQ(o.rec.remapped_columns, 0U);
  // Init: the first push and 2 retries of each weight fail (3 x 2 entries).
  EXPECT_GE(o.rec.pv_failed, 6U);
  EXPECT_GE(o.rec.retries, 4U);
  EXPECT_EQ(o.pv.failed, o.rec.pv_failed);
  EXPECT_GT(o.changes, 100U);
}

TEST(Faults, StuckAtHrs) {
  auto cfg = small_config();
  cfg.device.stuck_rate = 0.02;
  cfg.device.stuck_lrs_prob = 0.0;  // all at HRS
  cfg.tile.spare_cols = 2;
  const auto o = run(cfg);
  // 2 % of (27 tiles x 64 x 18 x 2) devices
  EXPECT_GT(o.stuck, 800U);
  EXPECT_LT(o.stuck, 1400U);
  EXPECT_GT(o.rec.pv_failed, 0U);
  EXPECT_GT(o.rec.failed_weights, 0U);
  EXPECT_GT(o.rec.remapped_columns, 0U);
  EXPECT_LE(o.rec.remapped_columns, 27U * 2U);
  EXPECT_GT(o.rec.skipped_weights, 0U);
  EXPECT_EQ(o.rec.unrepaired, 0U);
  EXPECT_GE(o.rec.reprogrammed, o.rec.remapped_columns * 16U);  // every row of the column
  // Every failed weight ends remapped (its column reprogrammed) or skipped.
  EXPECT_LE(o.rec.skipped_weights, o.rec.failed_weights);
  EXPECT_GT(o.pv.skipped + o.pv.forced, 0U);
}

TEST(Faults, WearOut) {
  auto cfg = small_config();
  cfg.device.endurance_median = 6;
  cfg.device.endurance_sigma_ln = 0.3;
  const auto o = run(cfg);
  EXPECT_GT(o.worn, 10U);  // devices wore out during the run, none were stuck at the start
  EXPECT_EQ(o.worn, o.stuck);
  EXPECT_GT(o.rec.pv_failed, 0U);
  EXPECT_GT(o.rec.retries, 0U);
  EXPECT_GT(o.rec.skipped_weights, 0U);
  EXPECT_EQ(o.rec.unrepaired, 0U);
}

TEST(Faults, PvFail) {
  auto cfg = small_config();
  cfg.faults.pv_fail_rate = 0.01;
  cfg.faults.pv_fail_at_s = {0.0};  // and the very first loop
  cfg.faults.retry_limit = 3;
  const auto o = run(cfg);
  EXPECT_GT(o.pv.injected_pv_failures, 100U);
  EXPECT_EQ(o.pv.device_failures, o.pv.injected_pv_failures);  // no other failure
  EXPECT_EQ(o.rec.pv_failed, o.pv.failed);
  EXPECT_EQ(o.rec.retries, o.rec.pv_failed);  // each failure retried once, then it held
  EXPECT_EQ(o.rec.failed_weights, 0U);
  EXPECT_EQ(o.rec.skipped_weights, 0U);
  EXPECT_EQ(o.level_mismatches, 0U);
  EXPECT_EQ(o.weights, 784U * 32U + 32U * 10U);
}

TEST(Faults, QueueDrop) {
  auto cfg = small_config();
  cfg.faults.queue_drop_rate = 0.01;
  const auto o = run(cfg);
  EXPECT_GT(o.pv.injected_drops, 100U);
  EXPECT_EQ(o.pv.dropped, o.pv.injected_drops);
  EXPECT_EQ(o.rec.dropped, o.pv.injected_drops);
  EXPECT_EQ(o.rec.pv_failed, 0U);
  EXPECT_EQ(o.rec.skipped_weights, 0U);
  // The lost commands were pushed again: the devices hold meta_unit's levels.
  EXPECT_EQ(o.level_mismatches, 0U);
  EXPECT_GT(o.changes, 100U);
}

TEST(Faults, Remap) {
  auto cfg = small_config();
  cfg.device.stuck_cells = "layer1_t0:5:3:pos:lrs; layer1_t0:5:3:neg:lrs";
  cfg.tile.spare_cols = 1;
  const auto o = run(cfg, [](mp::system::System& sys) {
    auto& core = sys.tile(26).core();
    EXPECT_EQ(core.remapped_to(3), 0);
    EXPECT_EQ(core.spare_cols(), 1);
    // Weight (5, 3) now reads its level from the spare column's devices.
    const int lv = sys.pv_ctrl().level_of(26, 5, 3);
    ASSERT_GE(lv, 0);
    const double want = -1.0 + lv;  // ternary: -1, 0, 1
    const double got = core.weights(sc_core::sc_time_stamp().to_seconds())(5, 3);
    EXPECT_NEAR(got, want, 0.35);
  });
  EXPECT_EQ(o.rec.remapped_columns, 1U);
  EXPECT_EQ(o.rec.reprogrammed, 32U);  // layer 1 has 32 rows
  EXPECT_EQ(o.rec.skipped_weights, 0U);
  EXPECT_EQ(o.level_mismatches, 0U);
}

TEST(Faults, BusError) {
  auto cfg = small_config();
  cfg.faults.bus_error_rate = 0.01;
  cfg.faults.bus_error_at_s = {0.0};  // and the very first access
  cfg.faults.retry_limit = 3;
  const auto o = run(cfg);
  EXPECT_TRUE(o.error.empty());
  EXPECT_GT(o.bus_injected, 50U);
  EXPECT_EQ(o.bus_errors, o.bus_injected);   // no other error response
  EXPECT_EQ(o.bus_retries, o.bus_injected);  // each retried, then it went through
  EXPECT_EQ(o.pv.failed, 0U);
  EXPECT_EQ(o.pv.dropped, 0U);
  // Nothing was lost or written twice: the devices hold meta_unit's levels.
  EXPECT_EQ(o.level_mismatches, 0U);
  EXPECT_EQ(o.weights, 784U * 32U + 32U * 10U);
  EXPECT_GT(o.changes, 100U);
}

TEST(Faults, BusErrorExhausted) {
  auto cfg = small_config();
  cfg.faults.bus_error_rate = 1.0;
  cfg.faults.retry_limit = 2;
  const auto o = run(cfg, {}, true);
  EXPECT_EQ(o.bus_injected, 3U);  // the first access and its 2 retries
  EXPECT_EQ(o.bus_retries, 2U);
  EXPECT_NE(o.error.find("TLM_GENERIC_ERROR_RESPONSE"), std::string::npos) << o.error;
  EXPECT_NE(o.error.find("after 2 retries (faults.retry_limit)"), std::string::npos) << o.error;
  EXPECT_NE(o.error.find("giving up on the access at 0x"), std::string::npos) << o.error;
}

namespace {

// Runs `body` in the firmware after init (MetaPvUpdatePath, HalAccelerator on `dma` if
// `use_dma`); the system for back-door looks.
void run_mvm(const mp::Config& cfg, bool use_dma,
             const std::function<void(mp::system::System&, mp::drivers::HalAccelerator&,
                                      mp::drivers::DmaDriver*)>& body) {
  const auto shapes = mp::fw::Trainer::shapes(cfg.train);
  const auto layout = base_layout(cfg, shapes);
  mp::system::System* sys = nullptr;
  auto firmware = [&](mp::hal::Hal& host_hal) {
    mp::hal::RetryHal hal(host_hal, static_cast<std::uint64_t>(cfg.faults.retry_limit));
    mp::drivers::MetaPvUpdatePath up(hal, layout, mp::system::kIrqLine);
    std::unique_ptr<mp::drivers::DmaDriver> dma;
    if (use_dma) {
      dma = std::make_unique<mp::drivers::DmaDriver>(hal, mp::system::kIrqLine);
      dma->set_recovery(static_cast<std::uint64_t>(cfg.faults.retry_limit));
    }
    mp::drivers::HalAccelerator acc(hal, shapes, up, mp::system::kIrqLine, dma.get());
    acc.set_adc_recovery(cfg.faults.adc_sat_recover,
                         static_cast<std::uint64_t>(cfg.faults.retry_limit));
    body(*sys, acc, dma.get());
  };
  mp::system::System top(cfg, shapes, firmware, true);
  sys = &top;
  sc_core::sc_start();
  EXPECT_TRUE(top.host().finished());
  const std::string err = tb::firmware_error(top.host().error());
  if (!err.empty()) ADD_FAILURE() << "firmware threw: " << err;
}

constexpr int kBatch = 8;

// kBatch MNIST-sized input vectors in [0, 1] (deterministic).
std::vector<float> inputs() {
  std::vector<float> x(static_cast<std::size_t>(kBatch) * 784);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37U) % 101U) / 100.0F;
  return x;
}

}  // namespace

TEST(Faults, AdcSaturation) {
  auto cfg = small_config();
  cfg.faults.adc_sat_at_s = {0.0};  // the first MVM of tile 0
  cfg.faults.adc_sat_tile = 0;
  cfg.faults.adc_sat_recover = true;  // off by default
  cfg.faults.retry_limit = 2;
  run_mvm(cfg, false,
          [&](mp::system::System& sys, mp::drivers::HalAccelerator& acc, mp::drivers::DmaDriver*) {
            const auto x = inputs();
            std::vector<float> y1(kBatch * 32);
            std::vector<float> y2(kBatch * 32);
            acc.forward(0, x.data(), kBatch, y1.data());  // tile 0 saturates, re-run once
            auto st = acc.adc_sat();
            EXPECT_EQ(sys.tile(0).adc_sat_injected(), 1U);
            EXPECT_EQ(st.flagged, 1U);
            EXPECT_EQ(st.codes, 8U * kBatch);  // one ADC: 8 lines (cols_per_adc) x the vectors
            EXPECT_EQ(st.reruns, 1U);
            EXPECT_EQ(st.recovered, 1U);
            EXPECT_EQ(st.rescaled + st.unresolved, 0U);
            acc.forward(0, x.data(), kBatch, y2.data());  // clean
            EXPECT_EQ(acc.adc_sat().flagged, 1U);
            EXPECT_LT(tb::max_abs_diff(y1, y2), 1e-3F);
            float scale = 0;
            for (float v : y2) scale = std::max(scale, std::abs(v));
            ASSERT_GT(scale, 0.5F);

            // The same fault with the recovery off: flagged and counted, the output is wrong.
            acc.set_adc_recovery(false, 2);
            sys.tile(0).core().inject_adc_saturation(0.0);  // ADC 0: lines 0..7
            std::vector<float> y3(kBatch * 32);
            acc.forward(0, x.data(), kBatch, y3.data());
            EXPECT_EQ(acc.adc_sat().flagged, 2U);
            EXPECT_EQ(acc.adc_sat().reruns, 1U);
            EXPECT_GT(tb::max_abs_diff(y3, y2), 0.1F * scale);
            // Only tile 0's ADC 0 (outputs 0..7) is wrong.
            for (int v = 0; v < kBatch; ++v) {
              for (int j = 8; j < 32; ++j) {
                EXPECT_NEAR(y3[static_cast<std::size_t>(v * 32 + j)],
                            y2[static_cast<std::size_t>(v * 32 + j)], 1e-3F);
              }
            }

            // A signal out of range: tile 0's forward full scale at 0.7 of its largest output.
            acc.set_adc_recovery(true, 2);
            auto& core = sys.tile(0).core();
            std::vector<float> x0(static_cast<std::size_t>(kBatch) * 64);
            for (int v = 0; v < kBatch; ++v)
              std::copy_n(x.data() + v * 784, 64, x0.data() + static_cast<std::ptrdiff_t>(v) * 64);
            std::vector<float> p(static_cast<std::size_t>(kBatch) * 16);
            const double fs = core.adc_full_scale(mp::tile::Direction::forward);
            core.forward_batch(x0.data(), kBatch, p.data(), sc_core::sc_time_stamp().to_seconds());
            float m = 0;
            for (float v : p) m = std::max(m, std::abs(v));
            ASSERT_GT(m, 0.0F);
            core.set_adc_full_scale(mp::tile::Direction::forward, 0.7 * static_cast<double>(m));
            std::vector<float> y4(kBatch * 32);
            acc.forward(0, x.data(), kBatch, y4.data());
            st = acc.adc_sat();
            EXPECT_EQ(st.flagged, 3U);
            EXPECT_EQ(st.reruns, 3U);    // 1 before, 2 now (still saturating)
            EXPECT_EQ(st.rescaled, 1U);  // then halved inputs
            EXPECT_EQ(st.recovered, 2U);
            EXPECT_EQ(st.unresolved, 0U);
            // The finer code step and the halved inputs' DAC rounding: close to the clean output.
            EXPECT_LT(tb::max_abs_diff(y4, y2), 0.05F * scale);
            core.set_adc_full_scale(mp::tile::Direction::forward, fs);
          });
}

TEST(Faults, DmaError) {
  auto cfg = small_config();
  cfg.faults.dma_error_at_s = {0.0};  // the first DMA access
  cfg.faults.retry_limit = 2;
  run_mvm(
      cfg, true,
      [&](mp::system::System& sys, mp::drivers::HalAccelerator& acc, mp::drivers::DmaDriver* dma) {
        ASSERT_NE(dma, nullptr);
        const auto x = inputs();
        std::vector<float> y1(kBatch * 32);
        std::vector<float> y2(kBatch * 32);
        acc.forward(0, x.data(), kBatch, y1.data());
        EXPECT_EQ(sys.dma().injected_errors(), 1U);
        EXPECT_EQ(sys.dma().stats().errors, 1U);  // the engine stopped the chain on it
        EXPECT_EQ(dma->recovery().errors, 1U);
        EXPECT_EQ(dma->recovery().restarts, 1U);
        EXPECT_EQ(dma->recovery().pio_transfers, 0U);
        acc.forward(0, x.data(), kBatch, y2.data());  // clean
        EXPECT_EQ(sys.dma().injected_errors(), 1U);
        EXPECT_LT(tb::max_abs_diff(y1, y2), 1e-3F);
        float scale = 0;
        for (float v : y2) scale = std::max(scale, std::abs(v));
        ASSERT_GT(scale, 0.5F);

        // Every DMA access fails: each chain (inputs + CMDs, then outputs) is tried 3 times,
        // then moved by programmed I/O.
        const std::uint64_t chains = dma->chains_started();
        sys.dma().set_fault_injection(1.0, {}, 7);
        std::vector<float> y3(kBatch * 32);
        acc.forward(0, x.data(), kBatch, y3.data());
        sys.dma().set_fault_injection(0.0, {}, 7);
        EXPECT_EQ(dma->chains_started() - chains, 2U * 3U);
        EXPECT_EQ(sys.dma().injected_errors(), 1U + 6U);
        EXPECT_EQ(dma->recovery().errors, 1U + 6U);
        EXPECT_EQ(dma->recovery().restarts, 1U + 4U);
        EXPECT_EQ(dma->recovery().pio_transfers, 2U);
        // inputs: 13 x 2 tiles x 64 x 8 floats + 26 CMD words; outputs: 26 x 16 x 8 floats
        EXPECT_EQ(dma->recovery().pio_bytes, (26U * 64U * kBatch + 26U + 26U * 16U * kBatch) * 4U);
        EXPECT_LT(tb::max_abs_diff(y3, y2), 1e-3F);
      });
}
