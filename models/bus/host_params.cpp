#include "bus/host_params.hpp"

#include "bus/bus_params.hpp"

namespace memplast::bus {

void bind_params(cfg::Schema& s, HostParams& p) {
  // The compute model (the host's time and energy for the firmware's host-side work).
  s.add("host.f_clk_MHz", &p.f_clk_MHz, 1, 10000, "MHz", "Host core clock",
        "assumption: a 130 nm microcontroller-class core");
  s.add("host.macs_per_cycle", &p.macs_per_cycle, 0.01, 1024, "MAC/cycle",
        "Multiply-accumulates the host retires per cycle (digital backward pass, batch norm)",
        "assumption: a small SIMD unit");
  s.add("host.ops_per_cycle", &p.ops_per_cycle, 0.01, 1024, "op/cycle",
        "Other arithmetic operations (activation, softmax, loss) per cycle", "assumption");
  s.add("host.e_mac_pJ", &p.e_mac_pJ, 0, 1000, "pJ",
        "Energy of one host multiply-accumulate (8..16 bit, 130 nm)",
        "calibration.md: digital at 130 nm, 8 b mult about 1 pJ");
  s.add("host.e_op_pJ", &p.e_op_pJ, 0, 1000, "pJ", "Energy of one other host operation",
        "calibration.md: Horowitz x5 scaling (add)");
  // The TLM host.
  s.add("host.quantum_ns", &p.quantum_ns, 1.0, 1e9, "ns",
        "Global quantum of temporal decoupling: the host runs ahead of simulated time by at most "
        "this much before it synchronizes",
        "assumption: 1 us, small against the tile and P&V operations");
  s.add("host.burst_bytes", &p.burst_bytes, 4, 1 << 24, "B",
        "The HAL splits write_block/read_block into bus transactions of at most this many bytes",
        "assumption: 64-beat bursts of the 32-bit bus");
  s.add("host.lazy_sync", &p.lazy_sync,
        "Skip a quantum synchronization during block transfers and host compute when the "
        "SystemC kernel has nothing pending up to the host's local time (nothing could observe "
        "it); the host catches up before its next register access, interrupt wait or "
        "checkpoint. Outputs are identical either way (tb/regress/check_lazy_sync.py); "
        "false: synchronize at every quantum, as tlm_quantumkeeper does",
        "simulation speed only: no modelled hardware counterpart");
  s.add("host.data_movement", &p.data_movement, {"pio", "dma"},
        "How the firmware moves tile inputs and outputs and meta_unit gradients: `pio` = the "
        "host writes and reads every word itself (write_block/read_block in host.burst_bytes "
        "bursts); `dma` = the data sits in host memory and the DMA engine moves it (dma.*, "
        "host_mem.*), descriptor chains that also start the tiles; see docs/system.md");
  s.add_check([&p] { require_whole_words("host.burst_bytes", p.burst_bytes); });
}

}  // namespace memplast::bus
