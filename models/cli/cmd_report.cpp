// `memplast report RUN_DIR`: writes RUN_DIR/report.html (models/report, docs/report.md).
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "report/report.hpp"

namespace memplast::cli {

void print_report(const report::ReportInfo& r) {
  for (const auto& p : r.plots) {
    if (p.marks > 0)
      std::cout << fmt::format("report: {}: {} marks\n", p.id, p.marks);
    else
      std::cout << fmt::format("report: {}: not drawn: {}\n", p.id, p.note);
  }
  std::cout << "report in " << r.path.string() << "\n";
}

void add_report_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto svg_dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand(
      "report",
      "Write RUN_DIR/report.html: one self-contained page with the configuration, the headline "
      "numbers and the plots of a train run");
  sub->add_option("RUN_DIR", *dir, "The run folder (memplast train --out)")->required();
  sub->add_option("--svg-dir", *svg_dir,
                  "Also write each drawn plot as a standalone SVG file <plot id>.svg here");
  sub->callback([dir, svg_dir] { print_report(report::write_report(*dir, *svg_dir)); });
}

}  // namespace memplast::cli
