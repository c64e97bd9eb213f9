// dma: a one-channel DMA engine (regs::dma, keys dma.*). A bus::Target for its
// registers, and an initiator with two ports: `mem_socket` to host memory's DMA port
// (addresses in host_mem's region, regs::host_mem, go there, relative to its base) and
// `bus_socket` to the system bus (every other address). `irq_out` is its interrupt line
// (IRQ_STATUS & IRQ_ENABLE), bound to sysctl's dma_irq.
//
// A transfer is ROWS rows of COUNT elements; row r reads from SRC + r * SRC_STRIDE and
// writes to DST + r * DST_STRIDE. FORMAT converts each element (docs/registers.md):
//   F32 -> F32, U32 -> U32      copy
//   U8 -> F32                   x = p / 255 (float), the datasets' pixel scaling
//   F32|U8 -> DAC               int16 code = s * round(min(|x|, 1) * (2^DAC_BITS - 1)),
//                               the tile DAC's rounding of each signed phase
//   F32|U8 -> FIX               int32 round(x * 2^FIX_FRAC), saturated
// NEXT != 0 chains a descriptor (8 words in host memory, the register order SRC .. NEXT),
// fetched when the previous one is done; the chain ends at NEXT = 0. Completion sets
// IRQ_STATUS.DONE; an error response on a source read, a destination write or a
// descriptor fetch stops the chain with STATUS.ERROR, ERR_CODE and ERR_ADDR and
// IRQ_STATUS.ERROR; DESC_DONE then holds the index of the failing descriptor, and the
// channel halts: a start held meanwhile begins only at CTRL.CLEAR_ERROR. A row whose destination is
// not whole 32-bit words at a 4-byte aligned address, a zero COUNT, an unknown format or an invalid
// DAC_BITS/FIX_FRAC is ERR_CODE BAD_FORMAT (checked per descriptor, before it moves anything).
//
// Timing (loosely timed, its own SC_THREAD): a START written at local time t begins at
// t, or, while the channel is busy, when the running chain ends (one start is held:
// STATUS.PENDING; the wait is the "DMA channel busy" contention, ledger row (dma,
// channel_busy) with the time, stats().channel_busy). Each row is split into bursts of at
// most dma.burst_bytes destination bytes. Per burst: dma.cycles_per_burst engine cycles,
// the source read (bus or host memory, their own timing), the conversion
// (ceil(k / dma.elements_per_cycle) cycles), then the destination write; the read of
// the next burst overlaps the write of this one (two buffers). A descriptor fetch is one
// 32-byte read of host memory. The thread keeps a local time offset and waits when it
// exceeds the global quantum, and at the end of the chain, where DONE is set.
// Energy: dma.e_beat_pJ per destination 32-bit word, ledger (dma, beat); every chain
// adds a (dma, transfer) row with its duration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "bus/dma_params.hpp"
#include "bus/gen/regs.hpp"
#include "bus/target.hpp"
#include "common/energy.hpp"
#include "common/fault_schedule.hpp"
#include "common/log.hpp"
#include "common/state_io.hpp"
#include "sim/irq.hpp"

namespace memplast::bus {

struct DmaStats {
  std::uint64_t chains{0};
  std::uint64_t descriptors{0};
  std::uint64_t bytes_read{0};
  std::uint64_t bytes_written{0};
  std::uint64_t errors{0};
  sc_core::sc_time active{sc_core::SC_ZERO_TIME};        // chains' durations summed
  sc_core::sc_time channel_busy{sc_core::SC_ZERO_TIME};  // starts waiting for the channel
};

// The element conversions, outside the SystemC shell (tested on their own).
namespace dma_format {
// Bytes per element of a SRC_FMT / DST_FMT value, 0 if unknown.
unsigned src_bytes(std::uint32_t fmt);
unsigned dst_bytes(std::uint32_t fmt);
// Convert `n` elements. Returns false for an unsupported combination.
bool convert(std::uint32_t format, const unsigned char* src, unsigned char* dst, std::size_t n);
}  // namespace dma_format

class Dma : public Target {
 public:
  SC_HAS_PROCESS(Dma);
  tlm_utils::simple_initiator_socket<Dma> bus_socket;
  tlm_utils::simple_initiator_socket<Dma> mem_socket;
  sim::IrqOut irq_out{"irq_out"};

  Dma(const sc_core::sc_module_name& name, const DmaParams& p, EnergyLedger* ledger = nullptr);

  [[nodiscard]] const DmaStats& stats() const { return stats_; }
  [[nodiscard]] bool busy() const { return busy_; }
  // Checkpoint (at a batch boundary, channel idle): registers and statistics.
  void state_io(StateIO& io);
  // Fault injection (faults.dma_error_rate, faults.dma_error_at_s): an access of the
  // engine (burst read or write, descriptor fetch) is answered with
  // TLM_GENERIC_ERROR_RESPONSE and not issued, with probability `rate` (stream
  // "dma.faults" of `seed`) and the first one at or after each time of `at_s`; the chain
  // stops as on any error response. Call before sc_start.
  void set_fault_injection(double rate, std::vector<double> at_s, std::uint64_t seed);
  [[nodiscard]] std::uint64_t injected_errors() const { return injected_errors_; }

 private:
  struct Desc {
    std::uint32_t src, dst, count, rows, src_stride, dst_stride, format, next;
  };
  void run();
  // Run one descriptor; false (with the error registers set) on an error.
  bool run_desc(const Desc& d);
  // Fetch the descriptor at `addr` at local time `t` (advanced; unchanged on an error).
  bool fetch(std::uint32_t addr, Desc& d, sc_core::sc_time& t);
  // One access at local time `t` (advanced to its completion); false on an error.
  bool access(bool write, std::uint64_t addr, unsigned char* data, unsigned len,
              sc_core::sc_time& t);
  void sync();
  void stop_on_error(std::uint32_t code, std::uint64_t addr);
  void start(const sc_core::sc_time& at);
  void update_irq();
  void update_status();
  [[nodiscard]] Desc latched() const;

  DmaParams p_;
  sc_core::sc_time clk_;
  sc_core::sc_event start_ev_;
  bool busy_{false};
  bool pending_{false};
  Desc current_{};
  Desc pending_desc_{};
  sc_core::sc_time pending_since_{sc_core::SC_ZERO_TIME};
  sc_core::sc_time begin_at_{sc_core::SC_ZERO_TIME};
  // Local time offsets of the read and write sides of the pipeline.
  sc_core::sc_time t_rd_{sc_core::SC_ZERO_TIME};
  sc_core::sc_time t_wr_{sc_core::SC_ZERO_TIME};
  tlm::tlm_generic_payload payload_;
  std::vector<unsigned char> src_buf_;
  std::vector<unsigned char> dst_buf_;
  DmaStats stats_;
  log::Logger log_;
  EnergyLedger* ledger_;
  EnergyLedger::Id e_beat_{0};
  EnergyLedger::Id e_transfer_{0};
  EnergyLedger::Id e_busy_{0};
  bool halted_{false};    // a chain stopped on an error; a held start waits for CLEAR_ERROR
  FaultSchedule faults_;  // stream "dma.faults"
  std::uint64_t injected_errors_{0};
  // Whether the access requested at `t` gets an injected error response.
  bool inject_error(const sc_core::sc_time& t);
  void begin_pending(const sc_core::sc_time& now, bool wake);
};

}  // namespace memplast::bus
