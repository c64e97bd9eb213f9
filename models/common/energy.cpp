#include "common/energy.hpp"

#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast {

EnergyLedger::Id EnergyLedger::entry(const std::string& component, const std::string& phase) {
  auto key = std::make_pair(component, phase);
  auto it = index_.find(key);
  if (it != index_.end()) return it->second;
  const auto id = static_cast<Id>(entries_.size());
  entries_.push_back(Entry{component, phase, 0.0, 0});
  index_.emplace(std::move(key), id);
  return id;
}

double EnergyLedger::total() const {
  double t = 0;
  for (const auto& e : entries_) t += e.joules;
  return t;
}

std::map<std::string, double> EnergyLedger::by_component(bool by_class) const {
  std::map<std::string, double> out;
  for (const auto& e : entries_) {
    std::string name = e.component;
    if (by_class) {
      std::string c;
      for (char ch : name) {
        if (std::isdigit(static_cast<unsigned char>(ch)) == 0 && ch != '[' && ch != ']') c += ch;
      }
      name = c;
    }
    out[name] += e.joules;
  }
  return out;
}

std::string EnergyLedger::csv() const {
  std::string out = "component,phase,joules,count\n";
  for (const auto& e : entries_) {
    out += fmt::format("{},{},{:.9e},{}\n", e.component, e.phase, e.joules, e.count);
  }
  return out;
}

void EnergyLedger::merge(const EnergyLedger& other) {
  for (const auto& e : other.entries_) charge(entry(e.component, e.phase), e.joules, e.count);
}

void EnergyLedger::clear() {
  for (auto& e : entries_) {
    e.joules = 0;
    e.count = 0;
  }
}

void EnergyLedger::state_io(StateIO& io) {
  io.section("energy_ledger");
  std::uint64_t n = entries_.size();
  io.value("entries", n);
  if (io.reading() && n > (1U << 20))
    throw std::runtime_error(io.origin() + ": energy ledger: too many entries");
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string comp = io.writing() ? entries_[i].component : std::string();
    std::string phase = io.writing() ? entries_[i].phase : std::string();
    io.str("component", comp);
    io.str("phase", phase);
    double j = io.writing() ? entries_[i].joules : 0.0;
    std::uint64_t c = io.writing() ? entries_[i].count : 0;
    io.value("joules", j);
    io.value("count", c);
    if (io.reading()) {
      const Id id = entry(comp, phase);
      if (id != i) {
        throw std::runtime_error(io.origin() + ": energy ledger entry " + comp + "/" + phase +
                                 " is not at its stored position");
      }
      entries_[id].joules = j;
      entries_[id].count = c;
    }
  }
}

}  // namespace memplast
