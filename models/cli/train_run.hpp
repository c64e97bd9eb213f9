// The train job shared by `memplast train`, `memplast sweep` and the regressions.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/progress.hpp"
#include "config/config.hpp"

namespace memplast::cli {

// Version of summary.json's layout (docs/system.md, "summary.json"). Incremented when a
// key is removed or renamed or its meaning or unit changes; adding a key leaves it
// (readers ignore keys they do not know).
inline constexpr int kSummarySchemaVersion = 1;

// Runs the configured experiment, writes every output file into `out` (atomically),
// and returns summary.json's content.
nlohmann::json run_train(const LoadedConfig& cfg, const std::filesystem::path& out,
                         Progress& progress);

// max / p99 / mean of a count per device.
nlohmann::json distribution_summary(const std::vector<std::uint32_t>& v);

}  // namespace memplast::cli
