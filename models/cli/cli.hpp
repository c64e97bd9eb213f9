// memplast command-line front end. Each subcommand lives in its own source file and
// registers itself through one add_*_command function called from main.cpp.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/config.hpp"

namespace memplast::report {
struct ReportInfo;
}

namespace memplast::cli {

// Options every subcommand takes.
struct CommonOptions {
  std::string config_file;  // empty: the built-in defaults (= configs/paper.json)
  std::vector<std::string> overrides;
  std::string out_dir;
};

void add_common_options(CLI::App* sub, CommonOptions& opts, const std::string& default_out);

// Load and validate the configuration (errors propagate as cfg::ConfigError).
LoadedConfig load(const CommonOptions& opts);

// Create the output folder; error naming it if that fails.
std::filesystem::path prepare_out_dir(const std::string& dir);

// Registered subcommands.
void add_config_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_characterize_command(CLI::App& app);
void add_infer_command(CLI::App& app);
void add_sweep_command(CLI::App& app);
void add_report_command(CLI::App& app);
// Prints the marks per plot (or why a plot is missing) and the report's path.
void print_report(const report::ReportInfo& r);

}  // namespace memplast::cli
