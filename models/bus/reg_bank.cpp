#include "bus/reg_bank.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::bus {

RegisterBank::RegisterBank(std::string block, const regs::RegInfo* table, std::size_t n)
    : block_(std::move(block)) {
  std::uint32_t top = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (table[i].offset % 4 != 0) {
      throw std::invalid_argument(fmt::format("{}: register {} at {:#x} is not 4-byte aligned",
                                              block_, table[i].name, table[i].offset));
    }
    top = std::max(top, table[i].offset / 4 + 1);
  }
  index_.assign(top, -1);
  regs_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& slot = index_[table[i].offset / 4];
    if (slot >= 0) {
      throw std::invalid_argument(fmt::format("{}: registers {} and {} share offset {:#x}", block_,
                                              regs_[static_cast<std::size_t>(slot)].info.name,
                                              table[i].name, table[i].offset));
    }
    slot = static_cast<int>(regs_.size());
    regs_.push_back(Reg{table[i], table[i].reset, {}, {}});
  }
}

int RegisterBank::index_of(std::uint64_t offset) const {
  if (offset % 4 != 0 || offset / 4 >= index_.size()) return -1;
  return index_[static_cast<std::size_t>(offset / 4)];
}

const regs::RegInfo* RegisterBank::find(std::uint64_t offset) const {
  const int i = index_of(offset);
  return i < 0 ? nullptr : &regs_[static_cast<std::size_t>(i)].info;
}

RegisterBank::Reg& RegisterBank::at(std::uint32_t offset) {
  const int i = index_of(offset);
  if (i < 0) {
    throw std::invalid_argument(fmt::format("{}: no register at offset {:#x}", block_, offset));
  }
  return regs_[static_cast<std::size_t>(i)];
}

const RegisterBank::Reg& RegisterBank::at(std::uint32_t offset) const {
  return const_cast<RegisterBank*>(this)->at(offset);
}

void RegisterBank::on_read(std::uint32_t offset, ReadHook hook) {
  at(offset).read = std::move(hook);
}
void RegisterBank::on_write(std::uint32_t offset, WriteHook hook) {
  at(offset).write = std::move(hook);
}
std::uint32_t RegisterBank::get(std::uint32_t offset) const { return at(offset).value; }
void RegisterBank::set(std::uint32_t offset, std::uint32_t value) { at(offset).value = value; }

void RegisterBank::reset() {
  for (auto& r : regs_) r.value = r.info.reset;
}

tlm::tlm_response_status RegisterBank::check(const tlm::tlm_generic_payload& p, bool debug) const {
  const auto cmd = p.get_command();
  if (cmd == tlm::TLM_IGNORE_COMMAND) return tlm::TLM_OK_RESPONSE;
  if (p.get_byte_enable_ptr() != nullptr) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  if (p.get_data_length() != 4 || p.get_streaming_width() != 4) {
    return tlm::TLM_BURST_ERROR_RESPONSE;
  }
  const int i = index_of(p.get_address());
  if (i < 0) return tlm::TLM_ADDRESS_ERROR_RESPONSE;  // misaligned or unmapped
  const auto access = regs_[static_cast<std::size_t>(i)].info.access;
  if (cmd == tlm::TLM_WRITE_COMMAND && access == regs::Access::RO) {
    return tlm::TLM_COMMAND_ERROR_RESPONSE;
  }
  if (cmd == tlm::TLM_READ_COMMAND && access == regs::Access::WO && !debug) {
    return tlm::TLM_COMMAND_ERROR_RESPONSE;
  }
  return tlm::TLM_OK_RESPONSE;
}

unsigned RegisterBank::transport(tlm::tlm_generic_payload& p, bool debug) {
  const auto status = check(p, debug);
  p.set_response_status(status);
  if (status != tlm::TLM_OK_RESPONSE || p.get_command() == tlm::TLM_IGNORE_COMMAND) return 0;
  Reg& r = regs_[static_cast<std::size_t>(index_of(p.get_address()))];
  if (p.is_read()) {
    const std::uint32_t v = (r.read && !debug) ? r.read(r.value) : r.value;
    std::memcpy(p.get_data_ptr(), &v, 4);
  } else {
    std::uint32_t v = 0;
    std::memcpy(&v, p.get_data_ptr(), 4);
    const std::uint32_t old = r.value;
    if (r.info.access == regs::Access::W1C) {
      r.value = old & ~(v & r.info.write_mask);
    } else {
      r.value = (old & ~r.info.write_mask) | (v & r.info.write_mask);
    }
    if (r.write && !debug) r.write(r.value, old);
  }
  return 4;
}

tlm::tlm_response_status check_window(const tlm::tlm_generic_payload& p, const regs::WindowInfo& w,
                                      bool debug) {
  const auto cmd = p.get_command();
  if (cmd == tlm::TLM_IGNORE_COMMAND) return tlm::TLM_OK_RESPONSE;
  if (p.get_byte_enable_ptr() != nullptr) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  const std::uint64_t len = p.get_data_length();
  if (len == 0 || len % 4 != 0 || p.get_streaming_width() != len) {
    return tlm::TLM_BURST_ERROR_RESPONSE;
  }
  const std::uint64_t a = p.get_address();
  if (a % 4 != 0 || a < w.offset || a + len > std::uint64_t{w.offset} + w.size) {
    return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  }
  if (cmd == tlm::TLM_WRITE_COMMAND && w.access == regs::Access::RO) {
    return tlm::TLM_COMMAND_ERROR_RESPONSE;
  }
  if (cmd == tlm::TLM_READ_COMMAND && w.access == regs::Access::WO && !debug) {
    return tlm::TLM_COMMAND_ERROR_RESPONSE;
  }
  return tlm::TLM_OK_RESPONSE;
}

void RegisterBank::state_io(StateIO& io) {
  std::vector<std::uint32_t> v;
  for (const auto& r : regs_) v.push_back(r.value);
  io.vec("registers", v);
  if (io.reading())
    for (std::size_t i = 0; i < regs_.size(); ++i) regs_[i].value = v[i];
}

}  // namespace memplast::bus
