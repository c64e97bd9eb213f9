#include "bus/host.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "bus/gen/regs.hpp"
#include "sim/sc_support.hpp"
#include "sim/state_sc.hpp"

namespace memplast::bus {

hal::Response to_hal(tlm::tlm_response_status s) {
  switch (s) {
    case tlm::TLM_OK_RESPONSE: return hal::Response::ok;
    case tlm::TLM_INCOMPLETE_RESPONSE: return hal::Response::incomplete;
    case tlm::TLM_GENERIC_ERROR_RESPONSE: return hal::Response::generic_error;
    case tlm::TLM_ADDRESS_ERROR_RESPONSE: return hal::Response::address_error;
    case tlm::TLM_COMMAND_ERROR_RESPONSE: return hal::Response::command_error;
    case tlm::TLM_BURST_ERROR_RESPONSE: return hal::Response::burst_error;
    case tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE: return hal::Response::byte_enable_error;
  }
  return hal::Response::generic_error;
}

Host::Host(const sc_core::sc_module_name& name, const HostParams& p, Firmware firmware,
           bool stop_when_done)
    : sc_module(name),
      socket("socket"),
      mem_socket("mem_socket"),
      irq_in("irq_in", 32),
      p_(p),
      firmware_(std::move(firmware)),
      stop_when_done_(stop_when_done),
      log_(this->name()) {
  if (!firmware_) throw std::invalid_argument(fmt::format("{}: no firmware given", this->name()));
  if (!(p_.f_clk_MHz > 0.0) || !(p_.ops_per_cycle > 0.0) || !(p_.macs_per_cycle > 0.0) ||
      !(p_.quantum_ns > 0.0) || p_.burst_bytes < 4) {
    throw std::invalid_argument(fmt::format("{}: invalid host parameters", this->name()));
  }
  // The global quantum is one value for the whole simulation; every host sets the same.
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sim::ns(p_.quantum_ns));
  qk_.reset();
  SC_THREAD(run);
  SC_METHOD(sample_irq);
  for (auto& line : irq_in) sensitive << line;
  // Initialized (runs once at the start: all lines low, nothing changes), so that it is
  // not orphaned when no line is bound.
}

void Host::run() {
  qk_.reset();
  MP_LOG(log_, debug, "firmware starts");
  try {
    firmware_(*this);
  } catch (const std::exception& e) {
    error_ = std::current_exception();
    MP_LOG(log_, error, "firmware ended with an exception: {}", e.what());
  } catch (...) {
    error_ = std::current_exception();
    MP_LOG(log_, error, "firmware ended with an unknown exception");
  }
  finish_time_ = qk_.get_current_time();
  sync_now();
  finished_ = true;
  MP_LOG(log_, debug, "firmware done; quantum syncs: {} waited, {} skipped (host.lazy_sync)",
         syncs_waited_, syncs_skipped_);
  if (stop_when_done_) sc_core::sc_stop();
}

bool Host::quiet_until(const sc_core::sc_time& t) {
  if (sc_core::sc_pending_activity_at_current_time()) return false;
  // sc_time_to_pending_activity: the time to the next timed event (to the end of time
  // when there is none).
  return sc_core::sc_time_stamp() + sc_core::sc_time_to_pending_activity() > t;
}

void Host::check_deferred() {
  // Nothing was pending up to deferred_at_ when that sync was skipped; a block transfer
  // or a compute charge since then must schedule nothing before it (a target that started
  // work on a window write would see an earlier sc_time_stamp() than with a sync at every
  // quantum, and the results would differ).
  if (deferred_ && !quiet_until(deferred_at_)) {
    deferred_ = false;  // reported once: run()'s closing sync must not throw it again
    throw std::logic_error(fmt::format(
        "{}: host.lazy_sync: activity appeared before a deferred quantum sync at {}; run with "
        "--set host.lazy_sync=false and report this",
        name(), deferred_at_.to_string()));
  }
}

void Host::sync_now() {
  check_deferred();
  qk_.sync();
  deferred_ = false;
  ++syncs_waited_;
}

void Host::sync_lazily() {
  check_deferred();
  const sc_core::sc_time now = qk_.get_current_time();
  if (p_.lazy_sync && quiet_until(now)) {
    deferred_ = true;
    deferred_at_ = now;
    qk_.rearm_at(now);
    // Nothing can run before `now` (quiet_until), so the trace writer may flush up to it,
    // as it would when the kernel's time reached `now` at a sync here: the trace's event
    // order, bus aggregation and buffer use stay those of host.lazy_sync = false.
    if (probe_.on()) probe_.tracer().advance(sim::to_ps(now));
    ++syncs_skipped_;
    return;
  }
  sync_now();
}

void Host::undefer() {
  if (!deferred_) return;
  check_deferred();
  deferred_ = false;
  const sc_core::sc_time local = qk_.get_current_time() - deferred_at_;
  wait(deferred_at_ - sc_core::sc_time_stamp());
  ++syncs_waited_;
  qk_.set(local);
  qk_.rearm_at(deferred_at_);
}

void Host::transfer(tlm::tlm_command cmd, const char* op, std::uint64_t addr, std::uint8_t* data,
                    std::size_t bytes, bool block) {
  if (!block) undefer();
  auto& t = payload_;
  t.set_command(cmd);
  t.set_address(addr);
  t.set_data_ptr(data);
  t.set_data_length(static_cast<unsigned>(bytes));
  t.set_streaming_width(static_cast<unsigned>(bytes));
  t.set_byte_enable_ptr(nullptr);
  t.set_byte_enable_length(0);
  t.set_dmi_allowed(false);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = qk_.get_local_time();
  socket->b_transport(t, delay);
  if (delay < qk_.get_local_time()) {
    SC_REPORT_ERROR(name(), "b_transport returned a smaller delay than it was given");
  }
  qk_.set(delay);
  const auto status = t.get_response_status();
  if (status != tlm::TLM_OK_RESPONSE) {
    MP_LOG(log_, debug, "{} at {:#x} ({} bytes): {}", op, addr, bytes, t.get_response_string());
    throw hal::HalError(op, addr, bytes, to_hal(status));
  }
  if (qk_.need_sync()) {
    if (block) {
      sync_lazily();
    } else {
      sync_now();
    }
  }
}

std::uint32_t Host::read32(std::uint64_t addr) {
  std::uint32_t v = 0;
  transfer(tlm::TLM_READ_COMMAND, "read32", addr, reinterpret_cast<std::uint8_t*>(&v), 4);
  return v;
}

std::uint32_t Host::probe32(std::uint64_t addr) {
  undefer();  // a register's value at sc_time_stamp(), as with a sync at every quantum
  std::uint32_t v = 0;
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_READ_COMMAND);
  t.set_address(addr);
  t.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
  t.set_data_length(4);
  t.set_streaming_width(4);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  const unsigned n = socket->transport_dbg(t);
  if (t.get_response_status() != tlm::TLM_OK_RESPONSE || n != 4) {
    throw hal::HalError("probe32", addr, 4,
                        n != 4 && t.is_response_ok() ? hal::Response::generic_error
                                                     : to_hal(t.get_response_status()));
  }
  return v;
}

void Host::write32(std::uint64_t addr, std::uint32_t value) {
  transfer(tlm::TLM_WRITE_COMMAND, "write32", addr, reinterpret_cast<std::uint8_t*>(&value), 4);
}

void Host::write_block(std::uint64_t addr, const void* src, std::size_t bytes) {
  // The payload's data pointer is non-const; a write target only reads it.
  auto* p = static_cast<std::uint8_t*>(const_cast<void*>(src));
  const auto burst = static_cast<std::size_t>(p_.burst_bytes);
  for (std::size_t done = 0; done < bytes; done += burst) {
    const std::size_t n = std::min(burst, bytes - done);
    transfer(tlm::TLM_WRITE_COMMAND, "write_block", addr + done, p + done, n, true);
  }
}

void Host::read_block(std::uint64_t addr, void* dst, std::size_t bytes) {
  auto* p = static_cast<std::uint8_t*>(dst);
  const auto burst = static_cast<std::size_t>(p_.burst_bytes);
  for (std::size_t done = 0; done < bytes; done += burst) {
    const std::size_t n = std::min(burst, bytes - done);
    transfer(tlm::TLM_READ_COMMAND, "read_block", addr + done, p + done, n, true);
  }
}

void Host::sample_irq() {
  std::uint32_t next = 0;
  for (std::size_t i = 0; i < irq_in.size(); ++i) {
    if (sim::level(irq_in[i])) next |= 1U << i;
  }
  if (next != irq_lines_) {
    irq_lines_ = next;
    irq_event_.notify(sc_core::SC_ZERO_TIME);
  }
}

std::uint32_t Host::irq_lines() {
  sync_now();
  return irq_lines_;
}

std::uint32_t Host::wait_irq(std::uint32_t mask) {
  if (mask == 0) throw std::invalid_argument(fmt::format("{}: wait_irq with mask 0", name()));
  sync_now();  // bring the thread to its local time before looking at the lines
  waiting_mask_ = mask;
  while ((irq_lines_ & mask) == 0) wait(irq_event_);
  waiting_mask_ = 0;
  qk_.reset();
  return irq_lines_ & mask;
}

void Host::charge(const sc_core::sc_time& t) {
  compute_time_ += t;
  qk_.inc(t);
  if (qk_.need_sync()) sync_lazily();
}

void Host::charge_compute(std::uint64_t ops) {
  const auto t = sim::cycles(static_cast<double>(ops) / p_.ops_per_cycle, p_.f_clk_MHz);
  if (probe_.on()) trace_energy(t, static_cast<double>(ops) * p_.e_op_pJ * 1e-12);
  if (ledger_ != nullptr)
    ledger_->charge_rows(e_op_, static_cast<double>(ops) * p_.e_op_pJ * 1e-12, ops, t.to_seconds());
  charge(t);
}

void Host::charge_macs(std::uint64_t macs) {
  const auto t = sim::cycles(static_cast<double>(macs) / p_.macs_per_cycle, p_.f_clk_MHz);
  if (probe_.on()) trace_energy(t, static_cast<double>(macs) * p_.e_mac_pJ * 1e-12);
  if (ledger_ != nullptr) {
    ledger_->charge_rows(e_mac_, static_cast<double>(macs) * p_.e_mac_pJ * 1e-12, macs,
                         t.to_seconds());
  }
  charge(t);
}

void Host::trace_energy(const sc_core::sc_time& t, double joules) {
  // The ledger's host,compute entry is charged once at the end of the run from the same
  // operation counts and energies; the trace spreads each charge over its compute time.
  auto& tr = probe_.tracer();
  tr.advance(sim::to_ps(sc_core::sc_time_stamp()));
  tr.energy(basename(), sim::to_ps(qk_.get_current_time()), sim::to_ps(t), joules);
}

void Host::advance(std::uint64_t cycles) {
  charge(sim::cycles(static_cast<double>(cycles), p_.f_clk_MHz));
}

void* Host::host_memory(std::uint64_t addr, std::size_t bytes) {
  const std::uint64_t base = regs::host_mem::kBase;
  if (!mem_dmi_valid_) {
    if (mem_socket.size() == 0)
      throw std::logic_error(fmt::format("{}: host_memory: no host memory bound", name()));
    tlm::tlm_generic_payload p;
    p.set_command(tlm::TLM_READ_COMMAND);
    p.set_address(0);
    mem_dmi_valid_ = mem_socket->get_direct_mem_ptr(p, mem_dmi_);
    if (!mem_dmi_valid_) throw std::logic_error(fmt::format("{}: host memory refused DMI", name()));
  }
  if (addr < base || addr - base + bytes > mem_dmi_.get_end_address() + 1) {
    throw std::out_of_range(
        fmt::format("{}: host_memory [{:#x}, +{}) is outside the backed host memory [{:#x}, +{}) "
                    "(host_mem.size_MiB)",
                    name(), addr, bytes, base, mem_dmi_.get_end_address() + 1));
  }
  return mem_dmi_.get_dmi_ptr() + (addr - base);
}

void Host::set_ledger(EnergyLedger* ledger) {
  ledger_ = ledger;
  if (ledger_ == nullptr) return;
  e_mac_ = ledger_->row_entry(basename(), "mac");
  e_op_ = ledger_->row_entry(basename(), "op");
}

void Host::mark_phase(bool begin, const char* phase, const trace::Context& ctx, bool ledger) {
  if (ledger_ != nullptr && ledger) {
    const double t = qk_.get_current_time().to_seconds();
    if (begin) {
      ledger_->begin_phase(phase, t);
    } else {
      ledger_->end_phase(t);
    }
  }
  trace_phase(begin, phase, ctx);
}

void Host::trace_phase(bool begin, const char* phase, const trace::Context& ctx) {
  if (!probe_.on()) return;
  auto& tr = probe_.tracer();
  const auto at = sim::to_ps(qk_.get_current_time());
  tr.advance(sim::to_ps(sc_core::sc_time_stamp()));
  if (begin) {
    tr.set_context(ctx);
    trace::Args a;
    if (ctx.task >= 0) a.add("task", ctx.task);
    if (ctx.epoch >= 0) a.add("epoch", ctx.epoch);
    if (ctx.batch >= 0) a.add("batch", ctx.batch);
    tr.begin(probe_.track(), phase, "fw", at, a);
  } else {
    tr.end(probe_.track(), at);
  }
}

double Host::now_ns() {
  // Integer ticks over ticks per ns: exact for whole nanoseconds (unlike to_seconds()).
  return static_cast<double>(qk_.get_current_time().value()) /
         static_cast<double>(sc_core::sc_time(1, sc_core::SC_NS).value());
}

void Host::state_io(StateIO& io) {
  io.section("host");
  undefer();  // the checkpoint holds the times a sync at every quantum gives
  sc_core::sc_time global = sc_core::sc_time_stamp();
  sc_core::sc_time local = qk_.get_local_time();
  sim::time_io(io, "global_time", global);
  sim::time_io(io, "local_time", local);
  sim::time_io(io, "compute_time", compute_time_);
  std::uint32_t lines = irq_lines_;
  io.value("irq_lines", lines);
  if (io.reading()) {
    qk_.sync();
    const auto now = sc_core::sc_time_stamp();
    if (global < now) {
      throw std::runtime_error(
          fmt::format("{}: checkpoint time {} is before the end of the resumed run's set-up ({})",
                      io.origin(), global.to_string(), now.to_string()));
    }
    wait(global - now);
    qk_.reset();
    qk_.set(local);
    if (lines != irq_lines_)
      throw std::runtime_error(io.origin() + ": host interrupt lines differ after the restore");
  }
}

}  // namespace memplast::bus
