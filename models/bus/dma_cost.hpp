// The DMA engine's schedule and the host memory's access time, plain C++ (no SystemC):
// one home for the arithmetic that bus::Dma and bus::HostMemory apply in hardware mode
// and that the functional backend (models/functional) charges per chain without
// contention, as models/bus/pio_cost.hpp is for programmed I/O.
//
// A descriptor is ROWS rows of COUNT elements, each row split into bursts of at most
// dma.burst_bytes destination bytes. Per burst, on the read side: dma.cycles_per_burst
// engine cycles, then the source read (the word-aligned span holding the burst's
// elements); on the write side: the conversion, ceil(k / dma.elements_per_cycle) engine
// cycles after the read, then the destination write. The read of the next burst
// overlaps the write of this one (two buffers). The next descriptor of a chain is fetched
// (one 32-byte read) after this one's last write; the chain ends at max(read side, write
// side). How long each access takes is the caller's (`read` / `write` / `fetch`):
// bus::Dma issues TLM transactions (the router's bus::transfer_cycles and the target's
// per-word time, host memory's host_mem_time), the functional backend adds the same
// terms without waiting.
//
// `Time` is sc_core::sc_time in hardware mode (the engine's local time offsets), double
// seconds in the functional backend.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "bus/dma_params.hpp"

namespace memplast::bus {

// Host memory: an access of `bytes` holds the memory for hold_ns(bytes) and completes
// host_mem.latency_ns after that (the first word), no waiting.
[[nodiscard]] inline double host_mem_hold_ns(const HostMemParams& p, std::uint64_t bytes) {
  return static_cast<double>(bytes) / p.bandwidth_GBps;
}
[[nodiscard]] inline double host_mem_access_ns(const HostMemParams& p, std::uint64_t bytes) {
  return p.latency_ns + host_mem_hold_ns(p, bytes);
}

// Elements per burst for `dst_bytes` per destination element.
[[nodiscard]] inline std::uint32_t dma_burst_elements(const DmaParams& p, unsigned dst_bytes) {
  return static_cast<std::uint32_t>(
      std::max<std::int64_t>(1, p.burst_bytes / static_cast<std::int64_t>(dst_bytes)));
}

// Engine cycles of the conversion of `k` elements.
[[nodiscard]] inline double dma_convert_cycles(const DmaParams& p, std::uint32_t k) {
  return std::ceil(static_cast<double>(k) / static_cast<double>(p.elements_per_cycle));
}

// One descriptor's geometry (the registers SRC .. DST_STRIDE, element sizes of FORMAT).
struct DmaGeometry {
  std::uint32_t src{0}, dst{0}, count{0}, rows{1}, src_stride{0}, dst_stride{0};
  unsigned src_bytes{4}, dst_bytes{4};
};

// One burst: the source span read (word-aligned) and the destination written.
struct DmaBurst {
  std::uint64_t src_addr{0};  // word-aligned start of the source read
  std::uint64_t src_skip{0};  // bytes from src_addr to the first element
  unsigned src_len{0};        // bytes read (whole words)
  std::uint64_t dst_addr{0};
  unsigned dst_len{0};  // bytes written (k * dst_bytes, whole words)
  std::uint32_t elements{0};
};

// The schedule of one descriptor. `clk`: one engine cycle; `t_rd`, `t_wr`: the read and
// write sides' times, advanced. `read(const DmaBurst&, Time& t)` and `write(const
// DmaBurst&, Time& t)` perform an access requested at t and advance t to its completion;
// false stops the descriptor (an error), returned.
template <class Time, class Read, class Write>
bool dma_descriptor(const DmaParams& p, const Time& clk, const DmaGeometry& g, Time& t_rd,
                    Time& t_wr, Read&& read, Write&& write) {
  const std::uint32_t rows = g.rows == 0 ? 1 : g.rows;
  const std::uint32_t burst_elems = dma_burst_elements(p, g.dst_bytes);
  for (std::uint32_t row = 0; row < rows; ++row) {
    const std::uint64_t s0 = std::uint64_t{g.src} + std::uint64_t{row} * g.src_stride;
    const std::uint64_t d0 = std::uint64_t{g.dst} + std::uint64_t{row} * g.dst_stride;
    for (std::uint32_t e = 0; e < g.count; e += burst_elems) {
      // k * dst_bytes is whole words: burst_bytes and COUNT * dst_bytes are.
      const std::uint32_t k = std::min(burst_elems, g.count - e);
      // Source: the word-aligned span holding the elements (the bus moves whole words).
      const std::uint64_t sa = s0 + std::uint64_t{e} * g.src_bytes;
      const std::uint64_t sa4 = sa & ~std::uint64_t{3};
      const std::uint64_t se4 = (sa + std::uint64_t{k} * g.src_bytes + 3) & ~std::uint64_t{3};
      DmaBurst b;
      b.src_addr = sa4;
      b.src_skip = sa - sa4;
      b.src_len = static_cast<unsigned>(se4 - sa4);
      b.dst_addr = d0 + std::uint64_t{e} * g.dst_bytes;
      b.dst_len = static_cast<unsigned>(std::uint64_t{k} * g.dst_bytes);
      b.elements = k;
      t_rd += clk * static_cast<double>(p.cycles_per_burst);
      if (!read(b, t_rd)) return false;
      const Time conv = clk * dma_convert_cycles(p, k);
      t_wr = std::max(t_wr, t_rd + conv);
      if (!write(b, t_wr)) return false;
    }
  }
  return true;
}

// The schedule of a chain from descriptor `d` (a type with a `next` member).
// `run(Desc&)` runs one descriptor (dma_descriptor), `fetch(std::uint32_t addr, Desc& d,
// Time& t)` reads the next one at t (advanced); false stops the chain, returned. The
// chain's duration is then max(t_rd, t_wr).
template <class Time, class Desc, class Run, class Fetch>
bool dma_chain(Desc d, Time& t_rd, Time& t_wr, Run&& run, Fetch&& fetch) {
  for (;;) {
    if (!run(d)) return false;
    if (d.next == 0) return true;
    t_rd = std::max(t_rd, t_wr);  // the next descriptor after this one's last write
    if (!fetch(d.next, d, t_rd)) return false;
    t_wr = std::max(t_wr, t_rd);
  }
}

}  // namespace memplast::bus
