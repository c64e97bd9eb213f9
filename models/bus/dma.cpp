#include "bus/dma.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "bus/dma_cost.hpp"
#include "sim/sc_support.hpp"
#include "sim/state_sc.hpp"

namespace memplast::bus {

namespace r = regs::dma;

namespace dma_format {

unsigned src_bytes(std::uint32_t fmt) {
  switch (fmt) {
    case r::FORMAT_SRC_FMT_F32: return 4;
    case r::FORMAT_SRC_FMT_U8: return 1;
    case r::FORMAT_SRC_FMT_U32: return 4;
    default: return 0;
  }
}

unsigned dst_bytes(std::uint32_t fmt) {
  switch (fmt) {
    case r::FORMAT_DST_FMT_F32: return 4;
    case r::FORMAT_DST_FMT_DAC: return 2;
    case r::FORMAT_DST_FMT_FIX: return 4;
    case r::FORMAT_DST_FMT_U32: return 4;
    default: return 0;
  }
}

namespace {
float load_value(std::uint32_t sfmt, const unsigned char* s, std::size_t i) {
  if (sfmt == r::FORMAT_SRC_FMT_U8) return static_cast<float>(s[i]) / 255.0F;
  float x = 0.0F;
  std::memcpy(&x, s + 4 * i, 4);
  return x;
}
}  // namespace

bool convert(std::uint32_t format, const unsigned char* src, unsigned char* dst, std::size_t n) {
  const std::uint32_t sfmt = (format & r::FORMAT_SRC_FMT_MASK) >> r::FORMAT_SRC_FMT_SHIFT;
  const std::uint32_t dfmt = (format & r::FORMAT_DST_FMT_MASK) >> r::FORMAT_DST_FMT_SHIFT;
  if (src_bytes(sfmt) == 0 || dst_bytes(dfmt) == 0) return false;
  if ((sfmt == r::FORMAT_SRC_FMT_U32) != (dfmt == r::FORMAT_DST_FMT_U32)) return false;
  switch (dfmt) {
    case r::FORMAT_DST_FMT_U32: std::memcpy(dst, src, 4 * n); return true;
    case r::FORMAT_DST_FMT_F32:
      if (sfmt == r::FORMAT_SRC_FMT_F32) {
        std::memcpy(dst, src, 4 * n);
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          const float x = load_value(sfmt, src, i);
          std::memcpy(dst + 4 * i, &x, 4);
        }
      }
      return true;
    case r::FORMAT_DST_FMT_DAC: {
      const auto bits = (format & r::FORMAT_DAC_BITS_MASK) >> r::FORMAT_DAC_BITS_SHIFT;
      if (bits < 1 || bits > 15) return false;
      const auto dmax = static_cast<float>((1U << bits) - 1U);
      for (std::size_t i = 0; i < n; ++i) {
        const float x = load_value(sfmt, src, i);
        // The tile DAC drives each sign in its own phase, clipped to [0, 1] and rounded
        // to the nearest of 2^bits levels: the code carries both phases' levels.
        const float pos = std::nearbyint(std::min(std::max(x, 0.0F), 1.0F) * dmax);
        const float neg = std::nearbyint(std::min(std::max(-x, 0.0F), 1.0F) * dmax);
        const auto code = static_cast<std::int16_t>(pos - neg);
        std::memcpy(dst + 2 * i, &code, 2);
      }
      return true;
    }
    case r::FORMAT_DST_FMT_FIX: {
      const auto frac = (format & r::FORMAT_FIX_FRAC_MASK) >> r::FORMAT_FIX_FRAC_SHIFT;
      if (frac > 30) return false;
      const double scale = std::ldexp(1.0, static_cast<int>(frac));
      constexpr double lo = std::numeric_limits<std::int32_t>::min();
      constexpr double hi = std::numeric_limits<std::int32_t>::max();
      for (std::size_t i = 0; i < n; ++i) {
        const double v = std::nearbyint(static_cast<double>(load_value(sfmt, src, i)) * scale);
        const auto q = static_cast<std::int32_t>(std::isnan(v) ? 0.0 : std::clamp(v, lo, hi));
        std::memcpy(dst + 4 * i, &q, 4);
      }
      return true;
    }
    default: return false;
  }
}

}  // namespace dma_format

Dma::Dma(const sc_core::sc_module_name& name, const DmaParams& p, EnergyLedger* ledger)
    : Target(name, r::kRegisters, r::kWindows, sc_core::SC_ZERO_TIME),
      bus_socket("bus_socket"),
      mem_socket("mem_socket"),
      p_(p),
      clk_(sim::cycles(1.0, p.f_clk_MHz)),
      log_(this->name()),
      ledger_(ledger) {
  if (ledger_ != nullptr) {
    e_beat_ = ledger_->entry(basename(), "beat");
    e_transfer_ = ledger_->row_entry(basename(), "transfer");
    e_busy_ = ledger_->row_entry(basename(), "channel_busy");
  }
  registers().on_write(r::CTRL, [this](std::uint32_t v, std::uint32_t) {
    if ((v & r::CTRL_CLEAR_ERROR_MASK) != 0) {
      registers().clear_bits(r::STATUS, r::STATUS_ERROR_MASK | r::STATUS_ERR_CODE_MASK);
      if (halted_) {  // the channel resumes: a start held meanwhile begins now
        halted_ = false;
        if (pending_ && !busy_) begin_pending(access_time(), true);
        update_status();
      }
    }
    if ((v & r::CTRL_START_MASK) != 0) start(access_time());
  });
  registers().on_write(r::IRQ_STATUS, [this](std::uint32_t, std::uint32_t) { update_irq(); });
  registers().on_write(r::IRQ_ENABLE, [this](std::uint32_t, std::uint32_t) { update_irq(); });
  payload_.set_byte_enable_ptr(nullptr);
  payload_.set_byte_enable_length(0);
  SC_THREAD(run);
}

Dma::Desc Dma::latched() const {
  const auto& b = bank();
  return Desc{b.get(r::SRC),        b.get(r::DST),        b.get(r::COUNT),  b.get(r::ROWS),
              b.get(r::SRC_STRIDE), b.get(r::DST_STRIDE), b.get(r::FORMAT), b.get(r::NEXT)};
}

void Dma::start(const sc_core::sc_time& at) {
  if (!busy_ && !halted_) {
    busy_ = true;
    current_ = latched();
    begin_at_ = at;
    start_ev_.notify(at - sc_core::sc_time_stamp());
  } else if (!pending_) {
    pending_ = true;
    pending_desc_ = latched();
    pending_since_ = at;
  } else {
    MP_LOG(log_, warn, "START while a start is pending: refused");
    registers().set_bits(r::STATUS, r::STATUS_ERROR_MASK);
    registers().set(r::STATUS, (bank().get(r::STATUS) & ~r::STATUS_ERR_CODE_MASK) |
                                   (r::STATUS_ERR_CODE_BUSY << r::STATUS_ERR_CODE_SHIFT));
    registers().set_bits(r::IRQ_STATUS, r::IRQ_STATUS_ERROR_MASK);
    ++stats_.errors;
    update_irq();
  }
  update_status();
}

void Dma::update_status() {
  std::uint32_t s = bank().get(r::STATUS) & ~(r::STATUS_BUSY_MASK | r::STATUS_PENDING_MASK);
  if (busy_) s |= r::STATUS_BUSY_MASK;
  if (pending_) s |= r::STATUS_PENDING_MASK;
  registers().set(r::STATUS, s);
}

void Dma::update_irq() {
  sim::drive(irq_out, (bank().get(r::IRQ_STATUS) & bank().get(r::IRQ_ENABLE)) != 0);
}

void Dma::stop_on_error(std::uint32_t code, std::uint64_t addr) {
  MP_LOG(log_, warn, "transfer stopped: ERR_CODE {} at {:#x}", code, addr);
  registers().set(r::STATUS, (bank().get(r::STATUS) & ~r::STATUS_ERR_CODE_MASK) |
                                 r::STATUS_ERROR_MASK | (code << r::STATUS_ERR_CODE_SHIFT));
  registers().set(r::ERR_ADDR, static_cast<std::uint32_t>(addr));
  registers().set_bits(r::IRQ_STATUS, r::IRQ_STATUS_ERROR_MASK);
  ++stats_.errors;
}

bool Dma::access(bool write, std::uint64_t addr, unsigned char* data, unsigned len,
                 sc_core::sc_time& t) {
  auto& p = payload_;
  const bool mem =
      addr >= regs::host_mem::kBase && addr < regs::host_mem::kBase + regs::host_mem::kSize;
  p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  p.set_address(mem ? addr - regs::host_mem::kBase : addr);
  p.set_data_ptr(data);
  p.set_data_length(len);
  p.set_streaming_width(len);
  p.set_dmi_allowed(false);
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  if (faults_.pending() && inject_error(sc_core::sc_time_stamp() + t)) {
    ++injected_errors_;
    p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    MP_LOG(log_, info, "injected DMA error: {} at {:#x} ({} bytes)", write ? "write" : "read", addr,
           len);
    return false;
  }
  if (mem) {
    mem_socket->b_transport(p, t);
  } else {
    bus_socket->b_transport(p, t);
  }
  return p.is_response_ok();
}

void Dma::sync() {
  const sc_core::sc_time d = std::min(t_rd_, t_wr_);
  if (d < tlm_utils::tlm_quantumkeeper::get_global_quantum()) return;
  wait(d);
  t_rd_ -= d;
  t_wr_ -= d;
}

bool Dma::fetch(std::uint32_t addr, Desc& d, sc_core::sc_time& t) {
  std::uint32_t w[8];
  const sc_core::sc_time t0 = t;
  if (addr % 4 != 0 || !access(false, addr, reinterpret_cast<unsigned char*>(w), 32, t)) {
    t = t0;
    stop_on_error(r::STATUS_ERR_CODE_DESC_ERROR, addr);
    return false;
  }
  stats_.bytes_read += 32;
  d = Desc{w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]};
  return true;
}

bool Dma::run_desc(const Desc& d) {
  const std::uint32_t sfmt = (d.format & r::FORMAT_SRC_FMT_MASK) >> r::FORMAT_SRC_FMT_SHIFT;
  const std::uint32_t dfmt = (d.format & r::FORMAT_DST_FMT_MASK) >> r::FORMAT_DST_FMT_SHIFT;
  const unsigned sb = dma_format::src_bytes(sfmt);
  const unsigned db = dma_format::dst_bytes(dfmt);
  const std::uint32_t rows = d.rows == 0 ? 1 : d.rows;
  unsigned char probe[4] = {0, 0, 0, 0};
  if (sb == 0 || db == 0 || d.count == 0 || d.count > (1U << 20) || rows > (1U << 16) ||
      (std::uint64_t{d.count} * db) % 4 != 0 || d.dst % 4 != 0 ||
      (rows > 1 && d.dst_stride % 4 != 0) || !dma_format::convert(d.format, probe, probe, 0)) {
    stop_on_error(r::STATUS_ERR_CODE_BAD_FORMAT, d.dst);
    return false;
  }
  ++stats_.descriptors;
  const DmaGeometry g{d.src, d.dst, d.count, d.rows, d.src_stride, d.dst_stride, sb, db};
  // The schedule (bursts, overlap, conversion time) is bus/dma_cost.hpp's; the accesses
  // are TLM transactions.
  const auto read = [&](const DmaBurst& b, sc_core::sc_time& t) {
    src_buf_.resize(b.src_len);
    if (!access(false, b.src_addr, src_buf_.data(), b.src_len, t)) {
      stop_on_error(r::STATUS_ERR_CODE_SRC_ERROR, b.src_addr);
      return false;
    }
    stats_.bytes_read += b.src_len;
    dst_buf_.resize(b.dst_len);
    dma_format::convert(d.format, src_buf_.data() + b.src_skip, dst_buf_.data(), b.elements);
    return true;
  };
  const auto write = [&](const DmaBurst& b, sc_core::sc_time& t) {
    if (!access(true, b.dst_addr, dst_buf_.data(), b.dst_len, t)) {
      stop_on_error(r::STATUS_ERR_CODE_DST_ERROR, b.dst_addr);
      return false;
    }
    stats_.bytes_written += b.dst_len;
    registers().set(r::BYTES_DONE, bank().get(r::BYTES_DONE) + b.dst_len);
    if (ledger_ != nullptr)
      ledger_->charge(e_beat_, (b.dst_len / 4) * p_.e_beat_pJ * 1e-12, b.dst_len / 4);
    sync();
    return true;
  };
  return dma_descriptor(p_, clk_, g, t_rd_, t_wr_, read, write);
}

void Dma::run() {
  for (;;) {
    while (!busy_) wait(start_ev_);
    if (sc_core::sc_time_stamp() < begin_at_) wait(begin_at_ - sc_core::sc_time_stamp());
    const sc_core::sc_time t_begin = sc_core::sc_time_stamp();
    t_rd_ = sc_core::SC_ZERO_TIME;
    t_wr_ = sc_core::SC_ZERO_TIME;
    registers().set(r::DESC_DONE, 0);
    const bool ok = dma_chain(
        current_, t_rd_, t_wr_,
        [this](const Desc& d) {
          if (!run_desc(d)) return false;
          registers().set(r::DESC_DONE, bank().get(r::DESC_DONE) + 1);
          return true;
        },
        [this](std::uint32_t addr, Desc& d, sc_core::sc_time& t) { return fetch(addr, d, t); });
    wait(std::max(t_rd_, t_wr_));
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    ++stats_.chains;
    stats_.active += now - t_begin;
    if (ledger_ != nullptr) ledger_->charge_rows(e_transfer_, 0.0, 1, (now - t_begin).to_seconds());
    if (ok) {
      registers().set(r::CHAINS_DONE, bank().get(r::CHAINS_DONE) + 1);
      registers().set_bits(r::IRQ_STATUS, r::IRQ_STATUS_DONE_MASK);
    }
    MP_LOG(log_, debug, "chain {} at {}", ok ? "done" : "stopped", now.to_string());
    busy_ = false;
    if (!ok) halted_ = true;  // until CTRL.CLEAR_ERROR
    if (pending_ && !halted_) begin_pending(now, false);
    update_status();
    update_irq();
  }
}

void Dma::begin_pending(const sc_core::sc_time& now, bool wake) {
  pending_ = false;
  busy_ = true;
  current_ = pending_desc_;
  begin_at_ = std::max(now, pending_since_);
  if (now > pending_since_) {
    stats_.channel_busy += now - pending_since_;
    if (ledger_ != nullptr)
      ledger_->charge_rows(e_busy_, 0.0, 1, (now - pending_since_).to_seconds());
  }
  // Released by CLEAR_ERROR: the thread waits for start_ev_ (after a chain it checks busy_).
  if (wake) start_ev_.notify(begin_at_ - sc_core::sc_time_stamp());
}

void Dma::set_fault_injection(double rate, std::vector<double> at_s, std::uint64_t seed) {
  faults_ = FaultSchedule(rate, std::move(at_s), seed, "dma.faults");
}

bool Dma::inject_error(const sc_core::sc_time& t) { return faults_.hit(t.to_seconds()); }

void Dma::state_io(StateIO& io) {
  io.section("dma");
  if (!io.reading() && (busy_ || pending_))
    throw std::logic_error(std::string(name()) + ": checkpoint while a transfer runs");
  registers_state_io(io);
  io.value("chains", stats_.chains);
  io.value("descriptors", stats_.descriptors);
  io.value("bytes_read", stats_.bytes_read);
  io.value("bytes_written", stats_.bytes_written);
  io.value("errors", stats_.errors);
  sim::time_io(io, "active", stats_.active);
  sim::time_io(io, "channel_busy", stats_.channel_busy);
  // Fault injection and the halt: only where configured (the default layout is unchanged).
  if (faults_.configured()) {
    faults_.state_io(io, "fault_");
    io.value("injected_errors", injected_errors_);
    io.value("halted", halted_);
  }
}

}  // namespace memplast::bus
