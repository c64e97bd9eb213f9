// The firmware's only door to the hardware. Firmware in sw/ includes this header and
// sw/include/memplast_regs.h and nothing of SystemC, so the same code could run on a
// real core (an MMIO implementation of Hal), against RTL, or, as today, on the TLM
// host (models/bus/host.hpp), which charges simulated time for every call.
//
// Every access that the bus or a target answers with a TLM error response throws
// HalError naming the operation, the address, the size and the response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace memplast::hal {

// The response of a bus transaction, one to one with tlm::tlm_response_status.
enum class Response {
  ok,
  incomplete,
  generic_error,
  address_error,
  command_error,
  burst_error,
  byte_enable_error,
};

inline const char* response_name(Response r) {
  switch (r) {
    case Response::ok: return "TLM_OK_RESPONSE";
    case Response::incomplete: return "TLM_INCOMPLETE_RESPONSE";
    case Response::generic_error: return "TLM_GENERIC_ERROR_RESPONSE";
    case Response::address_error: return "TLM_ADDRESS_ERROR_RESPONSE";
    case Response::command_error: return "TLM_COMMAND_ERROR_RESPONSE";
    case Response::burst_error: return "TLM_BURST_ERROR_RESPONSE";
    case Response::byte_enable_error: return "TLM_BYTE_ENABLE_ERROR_RESPONSE";
  }
  return "unknown response";
}

// "0x0001002c": the address as the register map writes it.
inline std::string hex_address(std::uint64_t addr) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  const int nibbles = addr > 0xFFFFFFFFULL ? 16 : 8;
  for (int i = nibbles - 1; i >= 0; --i) s += digits[(addr >> (4 * i)) & 0xFU];
  return s;
}

class HalError : public std::runtime_error {
 public:
  HalError(const std::string& op, std::uint64_t addr, std::size_t bytes, Response r)
      : std::runtime_error("HAL " + op + " at " + hex_address(addr) + " (" + std::to_string(bytes) +
                           " bytes): " + response_name(r)),
        op_(op),
        addr_(addr),
        bytes_(bytes),
        response_(r) {}
  [[nodiscard]] const std::string& op() const { return op_; }
  [[nodiscard]] std::uint64_t address() const { return addr_; }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] Response response() const { return response_; }

 private:
  std::string op_;
  std::uint64_t addr_;
  std::size_t bytes_;
  Response response_;
};

class Hal {
 public:
  virtual ~Hal() = default;
  Hal() = default;
  Hal(const Hal&) = delete;
  Hal& operator=(const Hal&) = delete;

  // One 32-bit register access (4-byte aligned address).
  virtual std::uint32_t read32(std::uint64_t addr) = 0;
  virtual void write32(std::uint64_t addr, std::uint32_t value) = 0;
  // A read of a register's value with no side effect and no simulated time (the TLM host
  // uses the debug transport), for tools and tests; the firmware does not use it (its
  // geometry reads, drivers::discover, are timed read32). Errors as read32. The default
  // is read32.
  virtual std::uint32_t probe32(std::uint64_t addr) { return read32(addr); }
  // Block transfers of `bytes` (a multiple of 4) to/from consecutive addresses, e.g. a
  // buffer window; split into bus bursts by the implementation. On an error the
  // HalError names the address of the burst that failed; earlier bursts took effect.
  virtual void write_block(std::uint64_t addr, const void* src, std::size_t bytes) = 0;
  virtual void read_block(std::uint64_t addr, void* dst, std::size_t bytes) = 0;

  // Block until at least one interrupt line in `mask` is asserted (lines are
  // level-sensitive: clear the cause at its source). Returns the asserted lines of
  // `mask`. A zero mask is std::invalid_argument.
  virtual std::uint32_t wait_irq(std::uint32_t mask) = 0;
  // Lines asserted now, without waiting.
  virtual std::uint32_t irq_lines() = 0;

  // Host computation, charged by the implementation's operation-count model:
  // `ops` non-MAC operations (adds, compares, activations, ...) and `macs`
  // multiply-accumulates.
  virtual void charge_compute(std::uint64_t ops) = 0;
  virtual void charge_macs(std::uint64_t macs) = 0;
  // Host idle/compute time in host clock cycles.
  virtual void advance(std::uint64_t cycles) = 0;
  // Host memory (regs host_mem): the core's pointer to `bytes` at system address `addr`
  // (inside host_mem's region), for the firmware's buffers that the DMA engine reads or
  // writes. The core's own accesses through it cost no bus time (its compute model covers
  // them). The default implementation has no host memory: std::logic_error.
  virtual void* host_memory(std::uint64_t addr, std::size_t bytes) {
    (void)bytes;
    throw std::logic_error("HAL: no host memory at " + hex_address(addr));
  }
  // The firmware's notion of time (simulated ns on the TLM host), for progress and
  // rate reports only.
  virtual double now_ns() = 0;
};

}  // namespace memplast::hal
