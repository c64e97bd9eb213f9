// Checkpoints of `memplast train` (<out>/checkpoint.bin), written at a batch boundary
// (train.checkpoint_every, train.checkpoint_minutes, and on SIGINT/SIGTERM) and read by
// `memplast train --resume <out>`. One file, written atomically (temporary + rename):
//   "MEMPLAST-CKPT\n"   magic (14 bytes)
//   u32 format          kCheckpointFormat
//   u64 n, n bytes      header JSON: memplast version, mode, the resolved configuration
//                       and its source, the position (task, epoch, batch)
//   u64 n, n bytes      the state: common/state_io.hpp fields (trainer, then the
//                       accelerator: functional model or the SystemC system)
//   u64                 FNV-1a 64 of the state bytes
// Little-endian (the host's order; x86-64 and AArch64 both are).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/state_io.hpp"

namespace memplast::cli {

inline constexpr std::uint32_t kCheckpointFormat = 2;
inline constexpr const char* kCheckpointFile = "checkpoint.bin";

struct Checkpoint {
  std::filesystem::path file;
  nlohmann::json header;
  std::string state;  // the StateIO bytes
};

// Writes dir/checkpoint.bin atomically.
void write_checkpoint(const std::filesystem::path& dir, const nlohmann::json& header,
                      const std::string& state);
// Reads and checks dir/checkpoint.bin; throws std::runtime_error naming the file and the
// problem (missing, not a checkpoint, other format, truncated, checksum mismatch).
Checkpoint read_checkpoint(const std::filesystem::path& dir);

// The keys (dotted) whose values differ between two resolved configurations.
std::vector<std::string> config_differences(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace memplast::cli
