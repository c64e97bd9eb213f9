#include "cli/cli.hpp"

#include <system_error>

#include <fmt/format.h>

namespace memplast::cli {

void add_common_options(CLI::App* sub, CommonOptions& opts, const std::string& default_out) {
  sub->add_option("--config,-c", opts.config_file,
                  "Configuration JSON (default: the built-in defaults, identical to "
                  "configs/paper.json)");
  sub->add_option("--set,-s", opts.overrides, "Override one key: key=value (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  opts.out_dir = default_out;
  sub->add_option("--out,-o", opts.out_dir, "Output folder")->capture_default_str();
}

LoadedConfig load(const CommonOptions& opts) {
  auto loaded = load_config(opts.config_file, opts.overrides);
  configure_logging(*loaded.config);
  return loaded;
}

std::filesystem::path prepare_out_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("--out {}: cannot create folder: {}", dir, ec.message()));
  }
  return std::filesystem::path(dir);
}

}  // namespace memplast::cli
