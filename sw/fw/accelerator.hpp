// The firmware's view of the accelerator: what the training and inference code
// needs from the hardware. Two implementations exist:
//  * HalAccelerator (sw/drivers): drivers that reach the SystemC model only through
//    the HAL (read32/write32/blocks/wait_irq), as firmware on a real core would;
//  * functional::FunctionalAccelerator (models/functional): the same cores (tile, device,
//    program-and-verify, metaplasticity unit) called directly, without SystemC or
//    timing: the speed reference and, with ideal devices, the software baseline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace memplast::fw {

struct LayerShape {
  std::size_t in;
  std::size_t out;
};

// Descriptors per DMA chain in the firmware's drivers (drivers::DmaDriver's chain area,
// host.data_movement = dma). A longer transfer list runs as consecutive chains of at
// most this many, each waited for (DmaDriver::run); the functional mode charges the same.
inline constexpr std::size_t kDmaChainMax = 1024;

struct AccelStats {
  // Per-device programming operations (a program-and-verify of one device whose
  // target changed), and SET/RESET pulses per device, over the whole run.
  std::vector<std::uint32_t> writes_per_device;
  std::vector<std::uint32_t> pulses_per_device;
  std::uint64_t level_changes{0};
  std::uint64_t pv_failures{0};
  // Faults by kind and the firmware's recovery (hardware mode; docs/reliability.md).
  std::map<std::string, std::uint64_t> faults;
  double endurance_budget_median{0};
  std::map<std::string, double> energy_by_component;  // joules
  double energy_total{0};
  std::string energy_csv;
  std::uint64_t mvm_vectors{0};
  // For the run report (docs/report.md): histograms.json's device histograms
  // (tile::histograms_json; empty without device tiles) and power.csv (PowerSeries).
  std::string histograms_json;
  std::string power_csv;
  // adc_profile.json (tile.adc_range = profile_*): the profiling histograms and the
  // chosen ADC ranges per layer and tile (tile::adc_profile_json); empty otherwise.
  std::string adc_profile_json;
  // Memory of the model's tiles (summary.json state_bytes; 0 without device tiles):
  // devices allocated (every cell of every tile, used or not), their per-cell state, and
  // the tiles' caches and work buffers.
  std::uint64_t devices_allocated{0};
  std::uint64_t device_state_bytes{0};
  std::uint64_t tile_cache_bytes{0};
};

class Accelerator {
 public:
  virtual ~Accelerator() = default;
  // Forward MVM of `layer`: x is batch x in (row-major, values in [0, 1], the DAC's
  // range); y is batch x out, in units of the quantized weight values.
  virtual void forward(int layer, const float* x, int batch, float* y) = 0;
  // Transpose MVM: d is batch x out (signed), y is batch x in.
  virtual void transpose(int layer, const float* d, int batch, float* y) = 0;
  // The current quantized weight values (in x out, row-major).
  virtual void read_weights(int layer, float* w) = 0;
  // Add a gradient dLoss/dW (in x out, row-major, batch-mean) to the layer's accumulator.
  virtual void accumulate(int layer, const float* grad) = 0;
  // Run the metaplastic update on every layer and program every device whose level
  // changed; returns the number of weights whose level changed.
  virtual std::size_t update() = 0;
  // Task boundary: optimizer state reset.
  virtual void new_task() = 0;
  // Refresh against relaxation (train.refresh_every_epochs): every device in use is
  // re-verified at its current level by program-and-verify from its present state (one
  // verify read if it is still in its band, pulses otherwise). Returns the SET and RESET
  // pulses applied. Default: nothing to refresh.
  virtual std::uint64_t refresh() { return 0; }
  // Charge host computation (multiply-accumulates and other operations).
  virtual void host_compute(std::uint64_t macs, std::uint64_t ops) = 0;
  // Simulated time so far (0 in functional mode).
  [[nodiscard]] virtual double now_s() const = 0;
  [[nodiscard]] virtual AccelStats stats() const = 0;
  [[nodiscard]] virtual std::uint64_t memory_hidden_bits() const = 0;
  [[nodiscard]] virtual std::uint64_t memory_optimizer_bits() const = 0;
  [[nodiscard]] virtual std::uint64_t memory_stored_bits() const = 0;
};

}  // namespace memplast::fw
