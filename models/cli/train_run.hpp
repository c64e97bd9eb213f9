// The train job shared by `memplast train`, `memplast sweep` and the regressions.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/progress.hpp"
#include "config/config.hpp"

namespace memplast::cli {

// Runs the configured experiment, writes every output file into `out` (atomically),
// and returns summary.json's content.
nlohmann::json run_train(const LoadedConfig& cfg, const std::filesystem::path& out,
                         Progress& progress);

// max / p99 / mean of a count per device.
nlohmann::json distribution_summary(const std::vector<std::uint32_t>& v);

}  // namespace memplast::cli
