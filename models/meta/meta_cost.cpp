#include "meta/meta_cost.hpp"

namespace memplast::meta {

namespace {
std::uint64_t cycles_per_group(const MetaParams& p) { return p.sram_ports >= 2 ? 1U : 2U; }
// n weights of `bits` bits each, in 64-bit accesses.
double accesses(std::uint64_t n, std::int64_t bits) {
  return static_cast<double>(n) / 64.0 * static_cast<double>(bits);
}
}  // namespace

std::uint64_t sweep_cycles(const MetaParams& p, std::uint64_t n) {
  const auto lanes = static_cast<std::uint64_t>(p.lanes);
  return (n + lanes - 1) / lanes;
}

std::uint64_t op_cycles(const MetaParams& p, std::uint64_t n) {
  return static_cast<std::uint64_t>(p.pipeline_depth) + sweep_cycles(p, n) * cycles_per_group(p);
}

std::uint64_t ready_cycle(const MetaParams& p, std::uint64_t i) {
  const auto lanes = static_cast<std::uint64_t>(p.lanes);
  return static_cast<std::uint64_t>(p.pipeline_depth) + (i / lanes + 1) * cycles_per_group(p);
}

std::int64_t optimizer_state_bits(const MetaParams& p) {
  return p.optimizer == "adam" ? p.m_bits + 6 + p.v_sig_bits : (p.momentum > 0.0 ? p.m_bits : 0);
}

double sram_accesses_accumulate(const MetaParams& p, std::uint64_t n) {
  return 2.0 * accesses(n, p.grad_bits);
}

double sram_accesses_step(const MetaParams& p, std::uint64_t n) {
  const std::int64_t opt = optimizer_state_bits(p);
  // Read hidden, optimizer state and accumulator; write hidden and state back.
  return accesses(n, p.hidden_bits + opt + p.grad_bits) + accesses(n, p.hidden_bits + opt);
}

double sram_accesses_new_task(const MetaParams& p, std::uint64_t n) {
  return accesses(n, p.optimizer == "adam" ? p.m_bits + 6 + p.v_sig_bits : p.m_bits);
}

double sram_accesses_clear_acc(const MetaParams& p, std::uint64_t n) {
  return accesses(n, p.grad_bits);
}

}  // namespace memplast::meta
