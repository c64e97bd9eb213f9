#include "common/energy.hpp"

#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast {

EnergyLedger::EnergyLedger() { phase_index(kOtherPhase); }

EnergyLedger::Id EnergyLedger::key(const std::string& component, const std::string& operation,
                                   bool total) {
  auto k = std::make_pair(component, operation);
  auto it = index_.find(k);
  if (it != index_.end()) {
    auto& key = keys_[it->second];
    if (total && key.entry < 0) {
      key.entry = static_cast<std::int64_t>(entries_.size());
      entries_.push_back(Entry{component, operation, 0.0, 0});
    }
    return it->second;
  }
  const auto id = static_cast<Id>(keys_.size());
  Key key{component, operation, -1, {}};
  if (total) {
    key.entry = static_cast<std::int64_t>(entries_.size());
    entries_.push_back(Entry{component, operation, 0.0, 0});
  }
  keys_.push_back(std::move(key));
  index_.emplace(std::move(k), id);
  return id;
}

EnergyLedger::Id EnergyLedger::entry(const std::string& component, const std::string& operation) {
  return key(component, operation, true);
}

EnergyLedger::Id EnergyLedger::row_entry(const std::string& component,
                                         const std::string& operation) {
  return key(component, operation, false);
}

std::size_t EnergyLedger::phase_index(const std::string& name) {
  for (std::size_t i = 0; i < phases_.size(); ++i)
    if (phases_[i] == name) return i;
  phases_.push_back(name);
  phase_seconds_.push_back(0.0);
  phase_count_.push_back(0);
  return phases_.size() - 1;
}

void EnergyLedger::advance(double t_s) {
  if (t_s < last_t_) {
    throw std::logic_error(
        fmt::format("energy ledger: phase marker at {} s is earlier than the previous one at {} s",
                    t_s, last_t_));
  }
  phase_seconds_[phase_] += t_s - last_t_;
  last_t_ = t_s;
}

void EnergyLedger::begin_phase(const std::string& name, double t_s) {
  advance(t_s);
  const auto i = phase_index(name);
  open_.push_back(i);
  ++phase_count_[i];
  phase_ = i;
}

void EnergyLedger::end_phase(double t_s) {
  if (open_.empty())
    throw std::logic_error("energy ledger: end of a firmware phase with no phase open");
  advance(t_s);
  open_.pop_back();
  phase_ = open_.empty() ? 0 : open_.back();
}

void EnergyLedger::close(double t_s) { advance(t_s); }

std::vector<EnergyLedger::PhaseTime> EnergyLedger::phase_times() const {
  std::vector<PhaseTime> out;
  for (std::size_t i = 0; i < phases_.size(); ++i)
    out.push_back(PhaseTime{phases_[i], phase_seconds_[i], phase_count_[i]});
  return out;
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

std::vector<EnergyLedger::Row> EnergyLedger::rows() const {
  std::vector<Row> out;
  for (const auto& k : keys_) {
    for (std::size_t p = 0; p < k.cells.size(); ++p) {
      const auto& c = k.cells[p];
      if (c.count == 0 && c.joules == 0.0 && c.seconds == 0.0) continue;
      out.push_back(Row{k.component, phases_[p], k.operation, c.count, c.joules, c.seconds});
    }
  }
  return out;
}

std::string EnergyLedger::csv() const {
  std::string out = kCsvHeader;
  for (const auto& r : rows()) {
    out += fmt::format("{},{},{},{},{},{}\n", r.component, r.phase, r.operation, r.count, r.joules,
                       r.seconds);
  }
  return out;
}

void EnergyLedger::merge(const EnergyLedger& other) {
  for (const auto& k : other.keys_) {
    const Id id = key(k.component, k.operation, k.entry >= 0);
    if (k.entry >= 0) {
      const auto& e = other.entries_[static_cast<std::size_t>(k.entry)];
      charge_total(id, e.joules, e.count);
    }
    for (std::size_t p = 0; p < k.cells.size(); ++p) {
      const auto& c = k.cells[p];
      const auto mine = phase_index(other.phases_[p]);
      auto& cells = keys_[id].cells;
      if (cells.size() <= mine) cells.resize(mine + 1);
      cells[mine].joules += c.joules;
      cells[mine].count += c.count;
      cells[mine].seconds += c.seconds;
    }
  }
  for (std::size_t p = 0; p < other.phases_.size(); ++p) {
    const auto mine = phase_index(other.phases_[p]);
    phase_seconds_[mine] += other.phase_seconds_[p];
    phase_count_[mine] += other.phase_count_[p];
  }
}

void EnergyLedger::clear() {
  for (auto& e : entries_) {
    e.joules = 0;
    e.count = 0;
  }
  for (auto& k : keys_) k.cells.clear();
  for (auto& s : phase_seconds_) s = 0;
  for (auto& c : phase_count_) c = 0;
}

}  // namespace memplast
