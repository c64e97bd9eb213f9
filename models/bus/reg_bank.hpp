// A generic register bank for TLM targets, built from a generated table
// (regs::<block>::kRegisters). It holds the register values, applies the access
// rules and sets the TLM response status; the target adds hooks for registers with
// behaviour and keeps live values current with set().
//
// Response rules (docs/bus.md), checked in this order:
//   TLM_IGNORE_COMMAND                         -> TLM_OK_RESPONSE, nothing happens
//   byte enables present                       -> TLM_BYTE_ENABLE_ERROR_RESPONSE
//   length != 4 or streaming width != 4        -> TLM_BURST_ERROR_RESPONSE (wrong size)
//   address not 4-byte aligned                 -> TLM_ADDRESS_ERROR_RESPONSE (misaligned)
//   no register at the address                 -> TLM_ADDRESS_ERROR_RESPONSE (unmapped)
//   write to RO, read of WO                    -> TLM_COMMAND_ERROR_RESPONSE
//   otherwise                                  -> TLM_OK_RESPONSE
// Writes change only the register's write_mask bits (its defined fields): RW and WO
// store (old & ~mask) | (value & mask); W1C clears the written 1-bits. Then the write
// hook runs with (new, old). A read returns the read hook's value, or the stored one.
// Debug accesses (transport_dbg) follow the same rules but never run hooks, and a
// debug read of a WO register returns its stored value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <tlm>

#include "bus/gen/regs.hpp"
#include "common/state_io.hpp"

namespace memplast::bus {

class RegisterBank {
 public:
  using ReadHook = std::function<std::uint32_t(std::uint32_t stored)>;
  using WriteHook = std::function<void(std::uint32_t new_value, std::uint32_t old_value)>;

  template <std::size_t N>
  RegisterBank(std::string block, const std::array<regs::RegInfo, N>& table)
      : RegisterBank(std::move(block), table.data(), N) {}
  RegisterBank(std::string block, const regs::RegInfo* table, std::size_t n);

  // Hooks; the offset must name a register of the table (std::invalid_argument).
  void on_read(std::uint32_t offset, ReadHook hook);
  void on_write(std::uint32_t offset, WriteHook hook);

  // Model side: no access rules, no hooks, no mask.
  [[nodiscard]] std::uint32_t get(std::uint32_t offset) const;
  void set(std::uint32_t offset, std::uint32_t value);
  void set_bits(std::uint32_t offset, std::uint32_t bits) { set(offset, get(offset) | bits); }
  void clear_bits(std::uint32_t offset, std::uint32_t bits) { set(offset, get(offset) & ~bits); }
  // Every register to its reset value.
  void reset();
  // Checkpoint: every register's value (no hooks run).
  void state_io(StateIO& io);

  // Bus side: the payload's address is block-local. Sets the response status;
  // returns the bytes transferred (4 or 0).
  unsigned transport(tlm::tlm_generic_payload& p, bool debug = false);
  // The status transport() would give this payload, without performing it.
  [[nodiscard]] tlm::tlm_response_status check(const tlm::tlm_generic_payload& p,
                                               bool debug = false) const;

  [[nodiscard]] const regs::RegInfo* find(std::uint64_t offset) const;
  [[nodiscard]] const std::string& block() const { return block_; }

 private:
  struct Reg {
    regs::RegInfo info;
    std::uint32_t value;
    ReadHook read;
    WriteHook write;
  };
  Reg& at(std::uint32_t offset);
  [[nodiscard]] const Reg& at(std::uint32_t offset) const;
  [[nodiscard]] int index_of(std::uint64_t offset) const;

  std::string block_;
  std::vector<Reg> regs_;
  std::vector<int> index_;  // offset / 4 -> position in regs_, -1 if none
};

// Access check for a buffer window (regs::<block>::kWindows entry) at block-local
// address p.get_address(): byte enables -> BYTE_ENABLE_ERROR; length 0, not a
// multiple of 4, or streaming width != length -> BURST_ERROR; misaligned or running
// past the window's end -> ADDRESS_ERROR; write to an RO / read of a WO window ->
// COMMAND_ERROR (debug reads of WO are allowed). Returns TLM_OK_RESPONSE when the
// target may copy the data; does not set the payload's status.
tlm::tlm_response_status check_window(const tlm::tlm_generic_payload& p, const regs::WindowInfo& w,
                                      bool debug = false);

// The window of `windows` that holds block-local `offset`, or nullptr.
template <std::size_t N>
const regs::WindowInfo* find_window(const std::array<regs::WindowInfo, N>& windows,
                                    std::uint64_t offset) {
  for (const auto& w : windows) {
    if (offset >= w.offset && offset < std::uint64_t{w.offset} + w.size) return &w;
  }
  return nullptr;
}

}  // namespace memplast::bus
