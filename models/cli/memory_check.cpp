#include "cli/memory_check.hpp"

#include <sys/resource.h>

#include <fstream>
#include <string>

#include <fmt/format.h>

#include "device/device.hpp"
#include "fw/trainer.hpp"
#include "tile/mapping.hpp"

namespace memplast::cli {

namespace {
constexpr std::uint64_t kMNISTBytes = (60000ULL + 10000ULL) * (784ULL + 1ULL);  // per task

std::string gib(std::uint64_t b) {
  return fmt::format("{:.2f} GiB", static_cast<double>(b) / (1024.0 * 1024.0 * 1024.0));
}
}  // namespace

std::uint64_t MemoryEstimate::total() const {
  std::uint64_t t = 0;
  for (const auto& p : parts) t += p.second;
  return t;
}

MemoryEstimate estimate_train_memory(const Config& cfg) {
  MemoryEstimate e;
  const auto shapes = fw::Trainer::shapes(cfg.train);
  const bool hw = cfg.train.mode == "hardware";
  const bool tiles = hw || cfg.train.device_effects;
  const bool diff = cfg.tile.mapping == "differential";
  // DeviceArray per cell: g_prog, relax (float), t_write (double), pulses (u32), stuck
  // (u8), its Rng.
  const std::uint64_t per_cell = device::DeviceArray::bytes_per_cell();
  std::uint64_t cells = 0;
  std::uint64_t tile_weights = 0;
  std::uint64_t weights = 0;
  for (const auto& s : shapes) {
    weights += s.in * s.out;
    if (!tiles) continue;
    const auto p =
        tile::make_placement(static_cast<int>(s.in), static_cast<int>(s.out),
                             static_cast<int>(cfg.tile.rows), static_cast<int>(cfg.tile.cols));
    const auto n_tiles = static_cast<std::uint64_t>(p.blocks.size());
    const auto rc =
        static_cast<std::uint64_t>(cfg.tile.rows) * static_cast<std::uint64_t>(cfg.tile.cols);
    tile_weights += n_tiles * rc;
    // Devices: the weight columns and the spare columns (tile.spare_cols).
    const auto rcs = rc + static_cast<std::uint64_t>(cfg.tile.rows) *
                              static_cast<std::uint64_t>(cfg.tile.spare_cols);
    cells += n_tiles * (diff ? 2 * rcs : rcs + static_cast<std::uint64_t>(cfg.tile.rows));
  }
  const std::uint64_t devices = cells * per_cell;
  // Tile caches: weights and read-noise variance (float) and a dirty flag per weight.
  const std::uint64_t caches = tile_weights * (4 + 4 + 1);
  // Metaplasticity engine per weight: hidden (16 bit in the fixed-point engine when
  // meta.hidden_bits <= 16, else 32), accumulator, m, v (32 bit), level (8 bit).
  const std::uint64_t hidden_b =
      cfg.meta.arithmetic == "fixed" && meta::hidden_stored_16(cfg.meta) ? 2 : 4;
  const std::uint64_t meta = weights * (hidden_b + 3 * 4 + 1);
  // Per weight: functional (quantized weight float, writes per device u32 x2, level u8);
  // hardware (meta_unit's GRAD window raw + float, pv_ctrl's writes u32 x2 and levels).
  const std::uint64_t counters = weights * (hw ? 4 + 4 + 8 + 1 : 4 + 8 + 1);
  // Host scratch: the gradients dW1, dW2 and the weights read back (float).
  const std::uint64_t host = weights * 4 * 2;
  const std::uint64_t data = kMNISTBytes * fw::task_list(cfg.train).size();
  // Checkpoint: the state serialized into one buffer (devices, caches, engine, counters).
  const std::uint64_t checkpoint = devices + caches + meta + counters;
  e.parts = {{"device arrays", devices},       {"tile caches", caches},
             {"metaplasticity state", meta},   {"per-weight counters", counters},
             {"host gradients", host},         {"datasets", data},
             {"checkpoint buffer", checkpoint}};
  return e;
}

MemoryLimit memory_limit() {
  MemoryLimit m;
  const auto take = [&m](std::uint64_t b, const char* src) {
    if (b > 0 && (m.bytes == 0 || b < m.bytes)) {
      m.bytes = b;
      m.source = src;
    }
  };
  {
    std::ifstream f("/proc/meminfo");
    std::string key;
    std::uint64_t kb = 0;
    std::string unit;
    while (f >> key >> kb >> unit) {
      if (key == "MemTotal:") {
        take(kb * 1024, "MemTotal (/proc/meminfo)");
        break;
      }
    }
  }
  {
    std::ifstream f("/sys/fs/cgroup/memory.max");  // cgroup v2; "max" = none
    std::string v;
    if (f >> v && v != "max") {
      try {
        take(std::stoull(v), "cgroup memory.max");
      } catch (const std::exception&) {
      }
    }
  }
  rlimit r{};
  if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
    take(static_cast<std::uint64_t>(r.rlim_cur), "RLIMIT_AS (ulimit -v)");
  return m;
}

void check_train_memory(const Config& cfg) {
  const auto e = estimate_train_memory(cfg);
  const auto lim = memory_limit();
  if (lim.bytes == 0 || e.total() <= lim.bytes) return;
  std::string parts;
  for (const auto& [what, b] : e.parts) {
    if (b == 0) continue;
    parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", what, gib(b));
  }
  throw cfg::ConfigError(fmt::format(
      "the configuration needs an estimated {} ({}), more than the {} this process may use "
      "({}); reduce train.hidden or tile.rows/tile.cols, or use a machine with more memory",
      gib(e.total()), parts, gib(lim.bytes), lim.source));
}

}  // namespace memplast::cli
