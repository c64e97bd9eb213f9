// FunctionalAccelerator: the accelerator's cores called directly, with no SystemC and
// no timing. With device effects it holds the crossbar tiles (device model, DAC/ADC,
// read noise) and programs changed levels with the program-and-verify algorithm; with
// train.device_effects = false it is the software baseline: weights are exactly the
// quantized levels.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "common/energy.hpp"
#include "config/config.hpp"
#include "fw/accelerator.hpp"
#include "meta/meta_core.hpp"
#include "tile/tile_core.hpp"

namespace memplast::functional {

class FunctionalAccelerator : public fw::Accelerator {
 public:
  FunctionalAccelerator(const Config& cfg, std::array<fw::LayerShape, 2> shapes);
  ~FunctionalAccelerator() override;

  void forward(int layer, const float* x, int batch, float* y) override;
  void transpose(int layer, const float* d, int batch, float* y) override;
  void read_weights(int layer, float* w) override;
  void accumulate(int layer, const float* grad) override;
  std::size_t update() override;
  void new_task() override;
  void host_compute(std::uint64_t macs, std::uint64_t ops) override;
  // Functional mode has no simulation: this is the analytic sum of the operations'
  // latencies (MVMs, program-and-verify, host compute), serialised, without contention.
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
  // Restore a trained state: set every hidden weight of `layer` (in x out, row-major)
  // and program every device whose level changed (program-and-verify, as in training).
  void load_hidden(int layer, const float* w);
  // Checkpoint (memplast train --resume): the metaplasticity engines, the weights, the
  // tiles (devices, read-noise streams, caches), the write counts, the energy ledger,
  // the analytic time and the counters.
  void state_io(StateIO& io);

 private:
  struct Layer;
  void program(Layer& L, std::size_t index, int level);
  void charge(const tile::OpCost& c);
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
  std::vector<Layer> layers_;
  std::vector<meta::LevelChange> changes_;
  std::uint64_t level_changes_{0};
};

}  // namespace memplast::functional
