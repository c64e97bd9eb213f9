// `memplast config`: print the resolved configuration with every default.
#include <iostream>
#include <memory>

#include "cli/cli.hpp"

namespace memplast::cli {

void add_config_command(CLI::App& app) {
  struct State {
    CommonOptions common;
    bool markdown{false};
  };
  auto st = std::make_shared<State>();
  auto* sub = app.add_subcommand(
      "config", "Print the resolved configuration (every key, defaults filled in) as JSON");
  add_common_options(sub, st->common, "");
  sub->add_flag("--markdown", st->markdown,
                "Print the documentation table of every key instead (docs/configuration.md)");
  sub->callback([st] {
    if (st->markdown) {
      std::cout << config_markdown();
      return;
    }
    auto loaded = load(st->common);
    std::cout << loaded.resolved.dump(2) << "\n";
  });
}

}  // namespace memplast::cli
