#include "bus/dma_params.hpp"

namespace memplast::bus {

void bind_params(cfg::Schema& s, DmaParams& p) {
  s.add("dma.f_clk_MHz", &p.f_clk_MHz, 1.0, 5000.0, "MHz",
        "DMA engine clock (address generation, descriptor handling, format conversion)",
        "assumption: the bus clock of the 130 nm SoC");
  s.add("dma.burst_bytes", &p.burst_bytes, 4, 1 << 20, "B",
        "Longest bus transaction the DMA engine issues (a row is split into bursts of at most "
        "this many destination bytes); at most bus.max_burst_bytes",
        "assumption: 256 beats of the 32-bit bus");
  s.add("dma.cycles_per_burst", &p.cycles_per_burst, 0, 1024, "cycles",
        "Engine cycles of address generation per burst, before its read is issued",
        "assumption: a simple one-channel engine");
  s.add("dma.elements_per_cycle", &p.elements_per_cycle, 1, 64, "elements/cycle",
        "Format-conversion throughput of the engine (elements per dma.f_clk_MHz cycle); the "
        "conversion overlaps the next burst's read",
        "assumption: a 4-lane converter");
  s.add("dma.e_beat_pJ", &p.e_beat_pJ, 0.0, 1000.0, "pJ",
        "Engine energy per 32-bit word it moves (buffering, conversion), ledger (dma, beat)",
        "assumption: same order as the bus beat");
  s.add_check([&p] {
    if (p.burst_bytes % 4 != 0)
      throw cfg::ConfigError("key 'dma.burst_bytes' must be a multiple of 4");
  });
}

void bind_params(cfg::Schema& s, HostMemParams& p) {
  s.add("host_mem.size_MiB", &p.size_MiB, 1, 256, "MiB",
        "Backed size of host memory (the host_mem window of the map is 256 MiB; an access "
        "beyond the backed size gets TLM_ADDRESS_ERROR_RESPONSE)",
        "assumption: room for the firmware's staging buffers");
  s.add("host_mem.latency_ns", &p.latency_ns, 0.0, 1e6, "ns",
        "Latency of one access to host memory (first word), on every port",
        "assumption: SRAM/PSRAM-class host RAM of a 130 nm SoC");
  s.add("host_mem.bandwidth_GBps", &p.bandwidth_GBps, 0.001, 1000.0, "GB/s",
        "Bandwidth of host memory after the first word: an access of n bytes takes latency + "
        "n / bandwidth; accesses from the bus and the DMA port share it (serialized)",
        "assumption: a 32-bit port at 400 MT/s");
  s.add("host_mem.e_byte_pJ", &p.e_byte_pJ, 0.0, 1000.0, "pJ",
        "Energy per byte read or written by the DMA or the bus, ledger (host_mem, read|write)",
        "assumption: off-core SRAM access, about 10 pJ per 32-bit word at 130 nm");
}

}  // namespace memplast::bus
