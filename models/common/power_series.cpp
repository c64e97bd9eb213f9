#include "common/power_series.hpp"

#include <set>

#include <fmt/format.h>

namespace memplast {

namespace {
std::string block_of(const std::string& c) {
  if (c.rfind("layer", 0) == 0) {
    const auto u = c.find("_t");
    if (u != std::string::npos) return c.substr(0, u) + "_tiles";
  }
  return c;
}
}  // namespace

void PowerSeries::sample(double t_s, const EnergyLedger& ledger, double host_j) {
  std::map<std::string, double> e;
  for (const auto& en : ledger.entries()) e[block_of(en.component)] += en.joules;
  if (host_j != 0) e["host"] += host_j;
  t_.push_back(t_s);
  e_.push_back(std::move(e));
}

std::string PowerSeries::csv() const {
  std::set<std::string> blocks;
  for (const auto& e : e_)
    for (const auto& [b, j] : e) blocks.insert(b);
  std::string out = "simulated_time_s";
  for (const auto& b : blocks) out += "," + b;
  out += "\n";
  for (std::size_t i = 0; i < t_.size(); ++i) {
    out += fmt::format("{:.9e}", t_[i]);
    for (const auto& b : blocks) {
      const auto it = e_[i].find(b);
      out += fmt::format(",{:.9e}", it == e_[i].end() ? 0.0 : it->second);
    }
    out += "\n";
  }
  return out;
}

}  // namespace memplast
