#include "bus/router.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "bus/pio_cost.hpp"
#include "sim/sc_support.hpp"
#include "sim/state_sc.hpp"

namespace memplast::bus {

namespace {
constexpr std::uint64_t kWordBytes = 4;  // bus addresses are word (register) aligned
}

Router::Router(const sc_core::sc_module_name& name, const BusParams& p)
    : sc_module(name),
      target_socket("target_socket"),
      initiator_socket("initiator_socket"),
      p_(p),
      clk_(sim::cycles(1.0, p.f_clk_MHz)),
      log_(this->name()) {
  if (p_.width_bytes < 1 || p_.max_burst_bytes < 4 || p_.cycles_per_transfer < 0 ||
      !(p_.f_clk_MHz > 0.0)) {
    throw std::invalid_argument(fmt::format("{}: invalid bus parameters", this->name()));
  }
  // The occupancy of the whole-word lengths up to max_burst_bytes (at most 4 KiB),
  // computed once as transfer_time() computes it.
  transfer_time_.resize(
      static_cast<std::size_t>(std::min<std::int64_t>(p_.max_burst_bytes, 4096)) / kWordBytes + 1);
  for (std::size_t w = 0; w < transfer_time_.size(); ++w)
    transfer_time_[w] = clk_ * static_cast<double>(transfer_cycles(p_, w * kWordBytes));
  target_socket.register_b_transport(this, &Router::b_transport);
  target_socket.register_transport_dbg(this, &Router::transport_dbg);
  target_socket.register_get_direct_mem_ptr(this, &Router::get_direct_mem_ptr);
  initiator_socket.register_invalidate_direct_mem_ptr(this, &Router::invalidate_direct_mem_ptr);
}

void Router::map(std::size_t target, std::uint64_t base, std::uint64_t size,
                 const std::string& name) {
  if (size == 0 || base + size < base) {
    throw std::invalid_argument(fmt::format("{}: region '{}' at {:#x} has an invalid size {:#x}",
                                            this->name(), name, base, size));
  }
  for (const auto& r : regions_) {
    if (base < r.base + r.size && r.base < base + size) {
      throw std::invalid_argument(
          fmt::format("{}: region '{}' [{:#x}, {:#x}) overlaps '{}' [{:#x}, {:#x})", this->name(),
                      name, base, base + size, r.name, r.base, r.base + r.size));
    }
  }
  regions_.push_back(Region{name, base, size, target});
  std::sort(regions_.begin(), regions_.end(),
            [](const Region& a, const Region& b) { return a.base < b.base; });
}

void Router::map(std::size_t target, const regs::BlockInfo& block, std::uint32_t instance) {
  if (instance >= block.instances) {
    throw std::invalid_argument(fmt::format("{}: block '{}' has {} instance(s), not {}", name(),
                                            block.name, block.instances, instance + 1));
  }
  const std::string region =
      block.instances > 1 ? fmt::format("{}{}", block.name, instance) : std::string(block.name);
  map(target, block.base + instance * block.stride, block.size, region);
}

void Router::end_of_elaboration() {
  for (const auto& r : regions_) {
    if (r.target >= initiator_socket.size()) {
      SC_REPORT_ERROR(name(), fmt::format("region '{}' routes to initiator_socket[{}] but only {} "
                                          "target(s) are bound",
                                          r.name, r.target, initiator_socket.size())
                                  .c_str());
    }
  }
  stats_.resize(target_socket.size());
}

const Region* Router::decode(std::uint64_t addr) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), addr,
                             [](std::uint64_t a, const Region& r) { return a < r.base; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return addr - it->base < it->size ? &*it : nullptr;
}

const InitiatorStats& Router::stats(std::size_t initiator) const { return stats_.at(initiator); }

InitiatorStats& Router::stats_for(int id) {
  const auto i = static_cast<std::size_t>(id);
  if (i >= stats_.size()) stats_.resize(i + 1);
  return stats_[i];
}

void Router::set_ledger(EnergyLedger* ledger) {
  ledger_ = ledger;
  if (ledger_ == nullptr) return;
  e_read_ = ledger_->entry(basename(), "read");
  e_write_ = ledger_->entry(basename(), "write");
  e_wait_ = ledger_->row_entry(basename(), "arbitration_wait");
}

sc_core::sc_time Router::transfer_time(std::uint64_t bytes) const {
  if (bytes % kWordBytes == 0 && bytes / kWordBytes < transfer_time_.size())
    return transfer_time_[bytes / kWordBytes];
  return clk_ * static_cast<double>(transfer_cycles(p_, bytes));
}

tlm::tlm_response_status Router::route(const tlm::tlm_generic_payload& p, const Region*& r) const {
  r = nullptr;
  const std::uint64_t a = p.get_address();
  const std::uint64_t len = p.get_data_length();
  if (a % kWordBytes != 0) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  if (len == 0 || len % kWordBytes != 0 || len > static_cast<std::uint64_t>(p_.max_burst_bytes)) {
    return tlm::TLM_BURST_ERROR_RESPONSE;
  }
  r = decode(a);
  if (r == nullptr || a + len - r->base > r->size) {
    r = nullptr;
    return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  }
  return tlm::TLM_OK_RESPONSE;
}

sc_core::sc_time Router::reserve(const sc_core::sc_time& request,
                                 const sc_core::sc_time& occupancy) {
  // The reservations never overlap (each is placed in a gap, below), so the calendar is
  // sorted by end as well as by start: the slots that ended by now are a prefix, and so
  // are the slots that end by `request` (the first-fit scan would skip them).
  // Every initiator's local time is >= sc_time_stamp(), so slots that ended by now
  // can never be hit again.
  const auto now = sc_core::sc_time_stamp();
  const auto ended_by = [](const Slot& s, const sc_core::sc_time& t) { return s.end <= t; };
  if (!calendar_.empty() && calendar_.front().end <= now) {
    calendar_.erase(calendar_.begin(),
                    std::lower_bound(calendar_.begin(), calendar_.end(), now, ended_by));
  }
  sc_core::sc_time start = request;
  auto pos = std::lower_bound(calendar_.begin(), calendar_.end(), request, ended_by);
  for (; pos != calendar_.end(); ++pos) {
    if (pos->end <= start) continue;
    if (pos->start >= start + occupancy) break;  // fits in the gap before this slot
    start = pos->end;
  }
  if (occupancy > sc_core::SC_ZERO_TIME) calendar_.insert(pos, Slot{start, start + occupancy});
  return start;
}

void Router::b_transport(int id, tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  auto& st = stats_for(id);
  const Region* r = nullptr;
  auto status = route(p, r);
  const sc_core::sc_time request = sc_core::sc_time_stamp() + delay;
  if (id == 0 && status == tlm::TLM_OK_RESPONSE && inject_error(request)) {
    status = tlm::TLM_GENERIC_ERROR_RESPONSE;
    ++injected_errors_;
    MP_LOG(log_, info, "injected bus error: {} at {:#x} ({} bytes)", p.is_read() ? "read" : "write",
           p.get_address(), p.get_data_length());
  }
  const sc_core::sc_time occupancy =
      status == tlm::TLM_OK_RESPONSE ? transfer_time(p.get_data_length()) : transfer_time(0);
  const sc_core::sc_time start = reserve(request, occupancy);
  delay += (start - request) + occupancy;
  st.wait += start - request;
  st.busy += occupancy;
  if (ledger_ != nullptr) {
    // Energy: bus.e_beat_pJ per bus cycle of the transaction (address phase and beats).
    const double cycles = occupancy / clk_;
    ledger_->charge(p.is_write() ? e_write_ : e_read_, cycles * p_.e_beat_pJ * 1e-12, 1,
                    occupancy.to_seconds());
    if (start > request) ledger_->charge_rows(e_wait_, 0.0, 1, (start - request).to_seconds());
  }
  ++st.transfers;
  if (status != tlm::TLM_OK_RESPONSE) {
    ++st.errors;
    p.set_response_status(status);
    MP_LOG(log_, debug, "initiator {}: {} at {:#x} ({} bytes) rejected: {}", id,
           p.is_read() ? "read" : "write", p.get_address(), p.get_data_length(),
           p.get_response_string());
    return;
  }
  st.bytes += p.get_data_length();
  if (probe_.on()) {
    auto& tr = probe_.tracer();
    tr.advance(sim::to_ps(sc_core::sc_time_stamp()));
    const auto i = static_cast<std::size_t>(id);
    tr.bus_burst(probe_.track(),
                 i < initiator_names_.size() ? initiator_names_[i] : fmt::format("initiator{}", id),
                 r->name, p.is_write(), p.get_data_length(), sim::to_ps(start),
                 sim::to_ps(occupancy), sim::to_ps(start - request));
  }
  const std::uint64_t global = p.get_address();
  p.set_address(global - r->base);
  initiator_socket[r->target]->b_transport(p, delay);
  p.set_address(global);
  if (p.is_response_error()) ++st.errors;
}

unsigned Router::transport_dbg(int /*id*/, tlm::tlm_generic_payload& p) {
  const std::uint64_t a = p.get_address();
  const Region* r = decode(a);
  if (r == nullptr || a + p.get_data_length() - r->base > r->size) {
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
  }
  p.set_address(a - r->base);
  const unsigned n = initiator_socket[r->target]->transport_dbg(p);
  p.set_address(a);
  return n;
}

bool Router::get_direct_mem_ptr(int /*id*/, tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi) {
  // DMI would bypass the bus timing; deny it for the whole map.
  dmi.allow_none();
  dmi.set_start_address(0);
  dmi.set_end_address(~sc_dt::uint64{0});
  p.set_dmi_allowed(false);
  return false;
}

void Router::invalidate_direct_mem_ptr(int /*id*/, sc_dt::uint64 /*start*/, sc_dt::uint64 /*end*/) {
  // No DMI region was ever handed out, so there is nothing to invalidate upstream.
}

void Router::set_fault_injection(double rate, std::vector<double> at_s, std::uint64_t seed) {
  faults_ = FaultSchedule(rate, std::move(at_s), seed, "bus.faults");
}

bool Router::inject_error(const sc_core::sc_time& t) { return faults_.hit(t.to_seconds()); }

void Router::state_io(StateIO& io) {
  io.section("router");
  if (!io.reading()) {
    // Reservations that have ended hold no bus time any more (reserve() drops them on its
    // next call); written without them, the checkpoint does not depend on when the
    // last reserve() ran (host.lazy_sync defers the kernel's time past block transfers).
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    const auto ended_by = [](const Slot& s, const sc_core::sc_time& t) { return s.end <= t; };
    calendar_.erase(calendar_.begin(),
                    std::lower_bound(calendar_.begin(), calendar_.end(), now, ended_by));
  }
  std::uint64_t n = calendar_.size();
  io.value("calendar", n);
  if (io.reading()) {
    if (n > (1U << 24)) throw std::runtime_error(io.origin() + ": bus calendar too long");
    calendar_.assign(n, Slot{});
  }
  for (auto& s : calendar_) {
    sim::time_io(io, "start", s.start);
    sim::time_io(io, "end", s.end);
  }
  std::uint64_t m = stats_.size();
  io.value("initiators", m);
  if (io.reading() && m != stats_.size())
    throw std::runtime_error(io.origin() + ": bus initiator count differs");
  for (auto& s : stats_) {
    io.value("transfers", s.transfers);
    io.value("bytes", s.bytes);
    io.value("errors", s.errors);
    sim::time_io(io, "wait", s.wait);
    sim::time_io(io, "busy", s.busy);
  }
  faults_.state_io(io, "fault_");
  io.value("injected_errors", injected_errors_);
}

}  // namespace memplast::bus
