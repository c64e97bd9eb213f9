// Driver of the DMA engine (`dma` block of sw/include/memplast_regs.h) and keeper of
// the firmware's buffers in host memory (`host_mem`). Firmware code: reaches the
// hardware only via the HAL.
//
// Buffers: alloc() hands out 64-byte aligned regions of host memory (a bump allocator
// from host_mem's base, sized at construction); ptr() is the core's pointer into one.
// Transfers: a chain of descriptors; start() writes descriptors 1.. into host memory
// (the chain's own region), descriptor 0 into the registers with NEXT pointing at the
// rest, then CTRL.START. The engine holds one start while it runs a chain
// (STATUS.PENDING); start() waits for a chain to finish before a third one. wait_idle()
// waits until every chain started has completed: it routes only the DMA line to the host
// (sysctl.IRQ_ENABLE = DMA) while it sleeps, and restores the enable mask after, so a
// tile or meta_unit interrupt pending meanwhile does not wake it. An error
// (STATUS.ERROR) throws std::runtime_error naming ERR_CODE and ERR_ADDR.
//
// Recovery (set_recovery, faults.retry_limit; docs/reliability.md): a chain that stopped
// on a bus error (ERR_CODE SRC_ERROR, DST_ERROR, DESC_ERROR) is restarted from the
// descriptor that failed (DESC_DONE; the ones before it took effect, and re-running a
// descriptor that failed midway writes the same data again), up to `retry_limit` times
// per transfer; then the rest of that transfer is moved by programmed I/O (the core
// reads each source and writes each destination through the HAL). The driver tells
// which chain failed from STATUS.PENDING (the engine halts on the error, so a chain held
// behind the failed one is still pending); chains in flight together must be independent
// (the firmware's are: distinct destinations), as a restarted one runs after it.
// Other errors (BAD_FORMAT, BUSY: firmware bugs) still throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fw/accelerator.hpp"
#include "sw/hal/hal.hpp"

namespace memplast::drivers {

class DmaDriver {
 public:
  struct Desc {
    std::uint32_t src{0};
    std::uint32_t dst{0};
    std::uint32_t count{0};
    std::uint32_t rows{1};
    std::uint32_t src_stride{0};
    std::uint32_t dst_stride{0};
    std::uint32_t format{0};
    std::uint32_t next{0};
  };
  // Writes `d` into the engine's descriptor registers, SRC to NEXT in register order
  // (not CTRL): what start() does for a chain's first descriptor.
  static void write_registers(hal::Hal& hal, const Desc& d);
  // FORMAT values.
  static std::uint32_t format(std::uint32_t src_fmt, std::uint32_t dst_fmt,
                              std::uint32_t dac_bits = 0, std::uint32_t fix_frac = 0);
  static const std::uint32_t kF32;  // F32 -> F32
  static const std::uint32_t kU32;  // U32 -> U32 (register writes)

  // `irq_line`: the host line sysctl drives; `max_chain`: descriptors per chain.
  DmaDriver(hal::Hal& hal, unsigned irq_line, std::size_t max_chain = fw::kDmaChainMax);

  // A region of `bytes` in host memory (its system address). std::runtime_error when
  // host memory is exhausted.
  std::uint64_t alloc(std::size_t bytes);
  template <class T>
  T* ptr(std::uint64_t addr, std::size_t n) {
    return static_cast<T*>(hal_.host_memory(addr, n * sizeof(T)));
  }
  // A host-memory word holding `value` (for chains that write a register, e.g. a CMD).
  std::uint64_t constant(std::uint32_t value);

  // Start the chain (at least one descriptor; NEXT fields are set here).
  void start(const std::vector<Desc>& chain);
  // Block until every started chain has completed.
  void wait_idle();
  // Run `descs` (at least one) to completion: as consecutive chains of at most
  // max_chain descriptors, each started and waited for.
  void run(const std::vector<Desc>& descs);
  [[nodiscard]] std::uint64_t chains_started() const { return started_; }

  // What the recovery did (summary.json "faults": dma_*).
  struct Recovery {
    std::uint64_t errors{0};         // chains stopped on a bus error (seen by the driver)
    std::uint64_t restarts{0};       // chains restarted from the failed descriptor
    std::uint64_t pio_transfers{0};  // transfers finished by programmed I/O
    std::uint64_t pio_bytes{0};      // destination bytes they wrote
  };
  // Enable the recovery with `retry_limit` restarts per transfer (0: straight to
  // programmed I/O). Off by default: an error throws.
  void set_recovery(std::uint64_t retry_limit) {
    recover_ = true;
    retry_limit_ = retry_limit;
  }
  [[nodiscard]] const Recovery& recovery() const { return rec_; }
  Recovery& recovery_ref() { return rec_; }

 private:
  struct Flight {  // a chain started and not known to be complete
    std::vector<Desc> descs;
    std::uint64_t attempts{0};  // restarts of this transfer so far
  };
  void start_flight(Flight f);
  // STATUS read: chains no longer busy or pending are complete (in order).
  void retire(std::uint32_t status);
  void recover(std::uint32_t status, std::uint32_t code);
  // Move descriptors by programmed I/O (the core, through the HAL).
  void pio(const std::vector<Desc>& descs);
  // Wait for the DMA interrupt once (only the DMA routed to the line), clear it, check
  // for an error.
  void wait_event();
  void check_error();
  void check_error(std::uint32_t status);

  hal::Hal& hal_;
  unsigned irq_line_;
  std::size_t max_chain_;
  std::uint64_t next_free_;
  std::uint64_t end_;
  std::uint64_t chain_area_[2];
  unsigned chain_slot_{0};
  std::uint64_t started_{0};
  std::vector<std::pair<std::uint32_t, std::uint64_t>> constants_;
  std::vector<Flight> flight_;  // oldest first; at most one running and one held
  bool recover_{false};
  std::uint64_t retry_limit_{0};
  Recovery rec_;
};

}  // namespace memplast::drivers
