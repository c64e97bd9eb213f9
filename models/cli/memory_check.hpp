// Up-front memory check of `memplast train` (issue 15 item 4): an estimate of the bytes
// the configured run holds (the per-cell and per-weight arrays that grow with the
// geometry, the datasets, the checkpoint buffer), compared with the memory this process
// may use; a run that cannot fit is refused before anything is built.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace memplast::cli {

struct MemoryEstimate {
  std::vector<std::pair<std::string, std::uint64_t>> parts;  // (what, bytes)
  [[nodiscard]] std::uint64_t total() const;
};

// The arrays of a training run of `cfg` (its train.mode): device arrays (per cell: the
// DeviceArray fields and its random stream), tile caches, the metaplasticity engine,
// per-weight counters, the host's gradient scratch, the datasets and the checkpoint
// buffer (a stop always writes one). A lower bound of the process's peak: code, the
// SystemC kernel and small buffers come on top.
MemoryEstimate estimate_train_memory(const Config& cfg);

struct MemoryLimit {
  std::uint64_t bytes{0};  // 0: no limit found
  std::string source;  // "MemTotal (/proc/meminfo)", "cgroup memory.max", "RLIMIT_AS (ulimit -v)"
};
// The smallest of the machine's memory, the cgroup limit and the address-space limit.
MemoryLimit memory_limit();

// Throws cfg::ConfigError with the estimate and the limit when the estimate exceeds it.
void check_train_memory(const Config& cfg);

}  // namespace memplast::cli
