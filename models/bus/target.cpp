#include "bus/target.hpp"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::bus {

Target::Target(const sc_core::sc_module_name& name, const regs::RegInfo* registers,
               std::size_t n_regs, const regs::WindowInfo* windows, std::size_t n_windows,
               const sc_core::sc_time& word_time)
    : sc_module(name),
      socket("socket"),
      regs_(this->name(), registers, n_regs),
      word_time_(word_time) {
  windows_.reserve(n_windows);
  for (std::size_t i = 0; i < n_windows; ++i) windows_.push_back(Window{windows[i], {}});
  socket.register_b_transport(this, &Target::b_transport);
  socket.register_transport_dbg(this, &Target::transport_dbg);
}

void Target::on_window(std::uint32_t offset, WindowHandler handler) {
  for (auto& w : windows_) {
    if (w.info.offset == offset) {
      w.handler = std::move(handler);
      return;
    }
  }
  throw std::invalid_argument(fmt::format("{}: no window starts at offset {:#x}", name(), offset));
}

void Target::on_write_check(std::uint32_t offset, WriteCheck check) {
  if (regs_.find(offset) == nullptr) {
    throw std::invalid_argument(fmt::format("{}: no register at offset {:#x}", name(), offset));
  }
  write_checks_.emplace_back(offset, std::move(check));
}

const Target::Window* Target::window_at(std::uint64_t offset) const {
  for (const auto& w : windows_) {
    if (offset >= w.info.offset && offset < std::uint64_t{w.info.offset} + w.info.size) return &w;
  }
  return nullptr;
}

tlm::tlm_response_status Target::check(const tlm::tlm_generic_payload& p, bool debug) const {
  const Window* w = nullptr;
  return check(p, debug, w);
}

tlm::tlm_response_status check_payload(const tlm::tlm_generic_payload& p) {
  const auto cmd = p.get_command();
  if (cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND &&
      cmd != tlm::TLM_IGNORE_COMMAND) {
    return tlm::TLM_COMMAND_ERROR_RESPONSE;
  }
  if (cmd == tlm::TLM_IGNORE_COMMAND) return tlm::TLM_OK_RESPONSE;
  if (p.get_byte_enable_ptr() != nullptr) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  if (p.get_streaming_width() != p.get_data_length()) return tlm::TLM_BURST_ERROR_RESPONSE;
  return tlm::TLM_OK_RESPONSE;
}

tlm::tlm_response_status Target::check(const tlm::tlm_generic_payload& p, bool debug,
                                       const Window*& w) const {
  w = nullptr;
  const auto first = check_payload(p);
  if (first != tlm::TLM_OK_RESPONSE || p.get_command() == tlm::TLM_IGNORE_COMMAND) return first;
  if (max_burst_ != 0 && p.get_data_length() > max_burst_) return tlm::TLM_BURST_ERROR_RESPONSE;
  if ((w = window_at(p.get_address())) != nullptr) {
    const auto st = check_window(p, w->info, debug);
    if (st != tlm::TLM_OK_RESPONSE) return st;
    return w->handler ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE;
  }
  return regs_.check(p, debug);
}

tlm::tlm_response_status Target::transport(tlm::tlm_generic_payload& p, const sc_core::sc_time& at,
                                           bool debug) {
  before_access();
  at_ = at;
  const Window* w = nullptr;  // the window check() found (one lookup per access)
  auto st = check(p, debug, w);
  if (st != tlm::TLM_OK_RESPONSE || p.get_command() == tlm::TLM_IGNORE_COMMAND) {
    p.set_response_status(st);
    return st;
  }
  const std::uint64_t addr = p.get_address();
  if (w != nullptr) {
    st = w->handler(WindowAccess{w->info, p.is_write(), addr - w->info.offset, p.get_data_ptr(),
                                 p.get_data_length(), at, debug});
    p.set_response_status(st);
    return st;
  }
  if (p.is_write() && !debug) {
    std::uint32_t value = 0;
    std::memcpy(&value, p.get_data_ptr(), 4);
    for (const auto& [offset, write_check] : write_checks_) {
      if (offset != addr) continue;
      st = write_check(value);
      if (st != tlm::TLM_OK_RESPONSE) {
        p.set_response_status(st);
        return st;
      }
    }
  }
  failed_ = tlm::TLM_OK_RESPONSE;
  regs_.transport(p, debug);
  if (failed_ != tlm::TLM_OK_RESPONSE) p.set_response_status(failed_);
  return p.get_response_status();
}

void Target::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  const auto st = transport(p, sc_core::sc_time_stamp() + delay, false);
  if (st == tlm::TLM_OK_RESPONSE && p.get_command() != tlm::TLM_IGNORE_COMMAND) {
    delay += word_time_ * static_cast<double>(p.get_data_length() / 4);
  }
}

unsigned Target::transport_dbg(tlm::tlm_generic_payload& p) {
  const auto st = transport(p, sc_core::sc_time_stamp(), true);
  if (st != tlm::TLM_OK_RESPONSE || p.get_command() == tlm::TLM_IGNORE_COMMAND) return 0;
  return p.get_data_length();
}

}  // namespace memplast::bus
