// sysctl: identification, simulated time and interrupt aggregation (regs::sysctl).
// A register-only bus::Target; it adds no latency of its own (the bus transfer time
// covers the access). SIM_TIME_LO/HI read the access's local time.
//
// Interrupts are signals (sim::IrqIn / IrqOut): the system top binds each block's
// interrupt output to tile_irq[i], pv_irq, meta_irq and dma_irq; IRQ_STATUS, TILE_IRQ_LO/HI
// and the TILE_IRQ window (one bit per tile) show them, and the output `irq_out` is driven
// with (IRQ_STATUS & IRQ_ENABLE) != 0 on every change (bind it to one of the host's
// irq_in lines).
// Geometry (RO, for the firmware's discovery): N_TILES, TILE_ROWS, TILE_COLS, LAYERS, and
// TILE_BASE / TILE_STRIDE, the placement of N_TILES tiles (regs::tile::placement_base).
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include "bus/target.hpp"
#include "sim/irq.hpp"

namespace memplast::bus {

class Sysctl : public Target {
 public:
  SC_HAS_PROCESS(Sysctl);
  // n_tiles: 0 .. regs::tile::kMaxInstances (std::invalid_argument beyond). The geometry
  // registers read tile_rows, tile_cols and layers as given (0: not described).
  Sysctl(const sc_core::sc_module_name& name, std::uint32_t n_tiles, std::uint32_t tile_rows = 0,
         std::uint32_t tile_cols = 0, std::uint32_t layers = 0);

  sc_core::sc_vector<sim::IrqIn> tile_irq;  // one per tile, N_TILES of them
  sim::IrqIn pv_irq{"pv_irq"};
  sim::IrqIn meta_irq{"meta_irq"};
  sim::IrqIn dma_irq{"dma_irq"};
  sim::IrqOut irq_out{"irq_out"};
  [[nodiscard]] bool irq() const { return irq_level_.get(); }
  // Checkpoint (at a batch boundary): registers; the interrupt level must be the one
  // the block has now (no interrupt pending across a checkpoint).
  void state_io(StateIO& io);

 private:
  // SC_METHOD on any input change: recompute TILE_IRQ_LO/HI and IRQ_STATUS.
  void sample_inputs();
  void update_irq();

  sim::IrqLevel irq_level_;
  std::vector<std::uint32_t> irq_words_;  // the TILE_IRQ window: bit b of word w = tile 32w+b
};

}  // namespace memplast::bus
