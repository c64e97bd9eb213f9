// The firmware's bus-error recovery: a Hal that forwards every call to another Hal and
// retries an access answered with TLM_GENERIC_ERROR_RESPONSE (a transient bus error,
// e.g. one injected by faults.bus_error_rate) up to `retry_limit` times
// (faults.retry_limit) per register access or per burst of a block transfer. A block transfer
// resumes at the burst that failed (the HalError names it; earlier bursts took effect), so no burst
// is issued twice after it succeeded. Other responses (address, burst, command errors: a firmware
// bug, not a transient) are not retried. When the retries are exhausted it throws HalError's
// message with the number of retries added, naming the operation and the address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sw/hal/hal.hpp"

namespace memplast::hal {

class RetryHal : public Hal {
 public:
  RetryHal(Hal& inner, std::uint64_t retry_limit) : inner_(inner), limit_(retry_limit) {}

  // Accesses retried (each counted once per retry), over the run.
  [[nodiscard]] std::uint64_t retries() const { return retries_; }
  // For a checkpoint: the count is part of the run's state.
  std::uint64_t& retries_ref() { return retries_; }

  std::uint32_t read32(std::uint64_t addr) override {
    std::uint32_t v = 0;
    with_retry([&](std::uint64_t) { v = inner_.read32(addr); }, addr);
    return v;
  }
  void write32(std::uint64_t addr, std::uint32_t value) override {
    with_retry([&](std::uint64_t) { inner_.write32(addr, value); }, addr);
  }
  // Not retried: the debug path has no injected errors.
  std::uint32_t probe32(std::uint64_t addr) override { return inner_.probe32(addr); }
  void write_block(std::uint64_t addr, const void* src, std::size_t bytes) override {
    const auto* p = static_cast<const std::uint8_t*>(src);
    with_retry(
        [&](std::uint64_t from) {
          inner_.write_block(from, p + (from - addr),
                             bytes - static_cast<std::size_t>(from - addr));
        },
        addr);
  }
  void read_block(std::uint64_t addr, void* dst, std::size_t bytes) override {
    auto* p = static_cast<std::uint8_t*>(dst);
    with_retry(
        [&](std::uint64_t from) {
          inner_.read_block(from, p + (from - addr), bytes - static_cast<std::size_t>(from - addr));
        },
        addr);
  }
  std::uint32_t wait_irq(std::uint32_t mask) override { return inner_.wait_irq(mask); }
  std::uint32_t irq_lines() override { return inner_.irq_lines(); }
  void charge_compute(std::uint64_t ops) override { inner_.charge_compute(ops); }
  void charge_macs(std::uint64_t macs) override { inner_.charge_macs(macs); }
  void advance(std::uint64_t cycles) override { inner_.advance(cycles); }
  void* host_memory(std::uint64_t addr, std::size_t bytes) override {
    return inner_.host_memory(addr, bytes);
  }
  double now_ns() override { return inner_.now_ns(); }

 private:
  // Runs access(from) from `start` (the access's address); on a generic error retries
  // from the failing address. The limit is per burst: a failure at a later burst of a
  // block (progress made) starts its count afresh.
  template <typename F>
  void with_retry(F&& access, std::uint64_t start) {
    std::uint64_t from = start;
    std::uint64_t attempts = 0;  // retries of the burst at `from`
    for (;;) {
      try {
        access(from);
        return;
      } catch (const HalError& e) {
        if (e.response() != Response::generic_error) throw;
        if (e.address() != from) attempts = 0;
        if (attempts >= limit_) {
          throw std::runtime_error(std::string(e.what()) + "; still failing after " +
                                   std::to_string(limit_) +
                                   " retries (faults.retry_limit): giving up on the access at " +
                                   hex_address(e.address()));
        }
        ++attempts;
        ++retries_;
        from = e.address();
      }
    }
  }

  Hal& inner_;
  std::uint64_t limit_;
  std::uint64_t retries_{0};
};

}  // namespace memplast::hal
