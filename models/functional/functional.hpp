// FunctionalAccelerator: the accelerator's cores called directly, with no SystemC. With
// device effects it holds the crossbar tiles (device model, DAC/ADC, read noise) and
// programs changed levels with the program-and-verify algorithm; with
// train.device_effects = false it is the software baseline: weights are exactly the
// quantized levels.
//
// Time (device effects): an analytic clock that charges every operation the latency the
// hardware mode's blocks charge it, without contention, from the same keys and cost
// functions (docs/system.md, "Contention"): the firmware's programmed I/O as
// HalAccelerator and MetaPvUpdatePath issue it (bus::pio_access: bus address phase and
// beats, the target's per-word time, host.burst_bytes bursts; the same register
// accesses, polls included), the tiles' MVMs (TileCore::mvm_cost) running while the
// host writes the next tile, meta_unit's ACCUMULATE / STEP / NEW_TASK cycles
// (meta_cost.hpp), the STEP's level changes leaving the pipeline at ready_cycle and
// crossing the meta_unit -> pv_ctrl path, pv_ctrl programming them one after another
// (pv.queue_depth is not enforced: a full queue is contention), and host compute. The
// bus charges its energy per cycle as the router does. With host.data_movement = dma the
// tile inputs (and the tiles' CMD), outputs and gradients move as the firmware's DMA
// chains (DmaDriver, HalAccelerator::mvm_chunk_dma, MetaDriver::write_grad), each chain
// timed by the DMA engine's schedule (bus/dma_cost.hpp: descriptor fetches, host memory
// latency and bandwidth, conversion, bus beats to the target windows) from its START,
// as if the channel were free (a start held behind a running chain is contention), with
// the DMA's, host memory's and the bus's energy. Without device effects only host
// compute and program-and-verify are timed (no tiles to time).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <vector>

#include "common/energy.hpp"
#include "config/config.hpp"
#include "fw/accelerator.hpp"
#include "meta/meta_core.hpp"
#include "pv/pv_algo.hpp"
#include "tile/tile_core.hpp"

namespace memplast::functional {

class FunctionalAccelerator : public fw::Accelerator {
 public:
  FunctionalAccelerator(const Config& cfg, std::vector<fw::LayerShape> shapes);
  ~FunctionalAccelerator() override;

  void forward(int layer, const float* x, int batch, float* y) override;
  void transpose(int layer, const float* d, int batch, float* y) override;
  void read_weights(int layer, float* w) override;
  void accumulate(int layer, const float* grad) override;
  std::size_t update() override;
  void new_task() override;
  // MetaPvUpdatePath::refresh: CNT_PULSES read, per layer the LEVELS read and every
  // reference cell and weight pushed with FORCE (push_layer), the wait for idle,
  // CNT_PULSES again.
  std::uint64_t refresh() override;
  void host_compute(std::uint64_t macs, std::uint64_t ops) override;
  // Functional mode has no simulation: the analytic clock (see the file header).
  [[nodiscard]] double now_s() const override { return t_; }
  [[nodiscard]] fw::AccelStats stats() const override;
  [[nodiscard]] std::uint64_t memory_hidden_bits() const override;
  [[nodiscard]] std::uint64_t memory_optimizer_bits() const override;
  [[nodiscard]] std::uint64_t memory_stored_bits() const override;

  meta::MetaEngine& engine(int layer);
  // The energy and time ledger: energy.csv's rows and the phase times, on the analytic
  // clock now_s(). The constructor's initial programming is phase "init".
  [[nodiscard]] const EnergyLedger& ledger() const { return *ledger_; }
  // A firmware phase marker (fw::Trainer's phase hook) at now_s().
  void mark_phase(bool begin, const char* name);
  // The end of the run: the time since the last marker goes to the current phase.
  void close_ledger() { ledger_->close(t_); }
  // Phase "readback": the firmware's read of the trained hidden weights (meta_unit's
  // HIDDEN window), as the hardware mode's run does after the last task. No-op without
  // device effects.
  void readback();
  // Restore a trained state: set every hidden weight of `layer` (in x out, row-major)
  // and program every device whose level changed (program-and-verify, as in training).
  void load_hidden(int layer, const float* w);
  // Checkpoint (memplast train --resume): the metaplasticity engines, the weights, the
  // tiles (devices, read-noise streams, caches), the write counts, the energy ledger,
  // the analytic time and the counters.
  void state_io(StateIO& io);

 private:
  struct Layer;
  // Program-and-verify of every device of weight `index` whose target changed, starting
  // at `at`; returns the duration (the tile's verify and pulse times, serialised).
  double program(Layer& L, std::size_t index, int level, double at);
  void charge_energy(const tile::OpCost& c);
  // The firmware's set-up and the initial programming of every weight (phase "init"), as
  // the hardware mode's drivers do it.
  void initial_programming();
  // The firmware's pushes of one layer (init and refresh): its reference cells
  // (reference mapping), then every weight at its level, each programmed from the
  // level the controller last wrote (-1 everywhere: every device, as CMD_PUSH.FORCE).
  void push_layer(Layer& L);
  // tile.adc_calibration = startup: ADC_TRIM on every tile, then the wait for all.
  void calibrate_adcs();
  // HalAccelerator::wait_tiles for tiles done at `done` (sysctl and tile IRQ accesses);
  // `tile`: their indices in the hardware's numbering (which sysctl word flags them).
  void wait_tiles(const std::vector<double>& done, const std::vector<unsigned>& tile);
  // One MVM chunk of n <= tile.buffer_vectors vectors, timed as HalAccelerator::mvm_chunk.
  void mvm_chunk(Layer& L, bool transpose, const float* x, int n, float* y, bool signed_inputs);
  // The tile MVMs of a chunk, shared by both paths: the inputs staged per drive block, the
  // MVM of block k (the c-th in issue order) run from start_of(k, c), the time its CMD
  // reaches the tile, its end in done[k]; the partial sums added into y.
  void run_chunk(Layer& L, bool transpose, const float* x, int n, float* y, bool signed_inputs,
                 std::vector<double>& done,
                 const std::function<double(int, std::size_t)>& start_of);
  // A host access of `bytes` to a target with `word_s` per word (bus::pio_access): the
  // clock advances by its time, the bus ledger row gets its energy. Returns the time the
  // (first) transaction reaches the target.
  double pio(bool write, std::uint64_t bytes, double word_s);
  // meta_unit CMD write and completion `cycles` later: the driver's poll of IRQ_STATUS,
  // the wait for DONE and its clear (MetaDriver::run). Returns the start.
  double meta_cmd();
  void meta_wait(double end);
  // PvDriver::wait_idle: poll STATUS, wait for the queue to drain, clear EMPTY.
  void pv_wait_idle();
  // PvDriver::push of one weight by the firmware (init): STATUS read (a full queue is
  // waited for until it drains, as the driver does), the command registers, CMD_PUSH.
  // Returns the time the command reaches the queue.
  double pv_push();
  // When pv_ctrl's worker starts a command that reaches its queue at `arrival`: when the
  // controller frees, or, arriving at or after that (an idle controller), after the
  // idle-start cycles of a clocked controller (pv::idle_start_s), as PvCtrl::run does.
  [[nodiscard]] double pv_start(double arrival) const;
  [[nodiscard]] bool timed() const { return cfg_.train.device_effects; }
  // host.data_movement = dma (with device effects).
  struct DmaDesc;
  [[nodiscard]] bool dma() const { return dma_; }
  // One MVM chunk moved by DMA, timed as HalAccelerator::mvm_chunk_dma.
  void mvm_chunk_dma(Layer& L, bool transpose, const float* x, int n, float* y, bool signed_inputs);
  // DmaDriver::start: STATUS read, the descriptor registers and CTRL.START; the chain
  // runs from the START's arrival (bus::dma_chain), contention-free. `cmd_at`: the
  // arrival time of each descriptor's last write (a tile's CMD: its MVM's start).
  void dma_start(const std::vector<DmaDesc>& chain, std::vector<double>* cmd_at = nullptr);
  // DmaDriver::run: `descs` as consecutive chains of at most fw::kDmaChainMax
  // descriptors, each started and waited for; `cmd_at` as dma_start's, over all of them.
  void dma_run(const std::vector<DmaDesc>& descs, std::vector<double>* cmd_at = nullptr);
  // DmaDriver::wait_idle: STATUS polls, the wait for the DMA interrupt and its clear.
  void dma_wait_idle();
  // The chain's schedule from `start`; returns its end.
  double dma_chain(const std::vector<DmaDesc>& chain, double start, std::vector<double>* cmd_at);
  bool dma_{false};
  std::vector<double> dma_ends_;  // ends of the chains started and not yet waited for
  double dma_irq_cleared_{0};     // the firmware's last clear of the DMA's IRQ_STATUS
  EnergyLedger::Id e_dma_beat_{0}, e_dma_transfer_{0}, e_hm_read_{0}, e_hm_write_{0};
  double tile_word_s_{0};
  double meta_word_s_{0};
  double meta_clk_s_{0};
  EnergyLedger::Id e_bus_read_{0}, e_bus_write_{0}, e_path_{0};
  std::vector<int> tile_config_;  // per hardware tile: the CONFIG the driver last wrote
  bool meta_n_written_{false};
  double pv_free_{0};             // pv_ctrl busy until
  std::vector<double> pv_queue_;  // start times of the commands pushed by the firmware
  // Program-and-verify of the reference cell of `row` of the layer's tile `block`
  // (placement order), to g_ref (pv::plan_reference_write), starting at `at`; returns
  // the duration.
  double program_reference(Layer& L, std::size_t block, int row, double at);
  [[nodiscard]] pv::PvCosts pv_costs(const tile::TileCore& tile) const;
  // Energy (ledger rows as pv_ctrl charges them) and counters of one P&V loop.
  void account_pv(const pv::PvResult& r, const pv::PvCosts& costs);
  void profile_range(Layer& L, tile::Direction dir, const float* x, int batch, bool signed_inputs);
  const Config& cfg_;
  std::unique_ptr<EnergyLedger> ledger_;
  std::array<EnergyLedger::Id, tile::kPhases> e_tile_{};
  EnergyLedger::Id e_pv_{0};
  EnergyLedger::Id e_host_{0};
  // Rows only: the split of the totals e_pv_ and e_host_ by operation (the names the
  // hardware mode's pv_ctrl and host charge).
  EnergyLedger::Id e_pv_verify_{0}, e_pv_set_{0}, e_pv_reset_{0};
  EnergyLedger::Id e_host_mac_{0}, e_host_op_{0};
  EnergyLedger::Id e_meta_acc_{0}, e_meta_update_{0}, e_meta_sram_{0};
  void charge_meta_sram(double accesses);
  [[nodiscard]] std::uint64_t meta_weights() const;
  double t_{0};
  std::uint64_t pulses_{0};
  std::uint64_t pv_failures_{0};
  std::uint64_t mvm_vectors_{0};
  std::vector<float> scratch_;
  std::vector<float> ybufs_;  // one MVM chunk's outputs, per tile
  std::vector<Layer> layers_;
  std::vector<meta::LevelChange> changes_;
  std::uint64_t level_changes_{0};
};

}  // namespace memplast::functional
