// memplast: a cycle-approximate SystemC/TLM-2.0 model of a memristive
// continual-learning accelerator. This is the single entry point.
#include <exception>
#include <iostream>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "cli/stop.hpp"
#include "common/schema.hpp"
#include "common/version.hpp"
#include "rtl/rtl_blocks.hpp"

// libsystemc's own main() refers to sc_main; the memplast executable has its own
// main() and never calls it. Weak, so a real definition elsewhere wins.
__attribute__((weak)) int sc_main(int /*argc*/, char* /*argv*/[]) { return 1; }

int main(int argc, char** argv) {
  memplast::rtl::install();  // the Verilated blocks of rtl.meta / rtl.pv, when built
  CLI::App app{"memplast: cycle-approximate model of a memristive continual-learning accelerator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("memplast {}", memplast::kVersion));
  memplast::cli::add_config_command(app);
  memplast::cli::add_train_command(app);
  memplast::cli::add_characterize_command(app);
  memplast::cli::add_infer_command(app);
  memplast::cli::add_sweep_command(app);
  memplast::cli::add_report_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand's own exit status (it printed why)
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const memplast::cli::ExitStatus& e) {
    return e.code;
  } catch (const memplast::cfg::ConfigError& e) {
    std::cerr << "memplast: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "memplast: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
