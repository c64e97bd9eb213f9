// The train job shared by `memplast train`, `memplast sweep` and the regressions.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/checkpoint.hpp"
#include "cli/progress.hpp"
#include "config/config.hpp"

namespace memplast::cli {

// Version of summary.json's layout (docs/system.md, "summary.json"). Incremented when a
// key is removed or renamed or its meaning or unit changes; adding a key leaves it
// (readers ignore keys they do not know).
inline constexpr int kSummarySchemaVersion = 1;

// The files a training run writes into its folder (summary.json first: it marks a
// result). A folder holding one of them holds results (memplast train refuses it
// without --force or --resume).
const std::vector<std::string>& train_result_files();

// Runs the configured experiment, writes every output file into `out` (atomically),
// and returns summary.json's content. Removes the earlier results in `out` first
// (except the checkpoint when resuming). With `resume`, continues from that checkpoint
// (its configuration must be `cfg`'s). Checkpoints go to out/checkpoint.bin at the stop
// boundary (SIGINT/SIGTERM, or MEMPLAST_STOP_AFTER_BATCHES=N: a test trigger that stops
// the run at the boundary after N batches of the whole run, as a signal would) and every
// train.checkpoint_every batches / train.checkpoint_minutes minutes.
nlohmann::json run_train(const LoadedConfig& cfg, const std::filesystem::path& out,
                         Progress& progress, const Checkpoint* resume = nullptr);

// max / p99 / mean of a count per device.
nlohmann::json distribution_summary(const std::vector<std::uint32_t>& v);

}  // namespace memplast::cli
