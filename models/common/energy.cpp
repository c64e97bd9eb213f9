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

void EnergyLedger::state_io(StateIO& io) {
  io.section("energy_ledger");
  // Phases first (names in index order, their times and counts, the open stack), so the
  // rows' cells below index the same phases.
  std::uint64_t np = phases_.size();
  io.value("phases", np);
  if (io.reading() && (np == 0 || np > 4096))
    throw std::runtime_error(io.origin() + ": energy ledger: bad phase count");
  for (std::uint64_t i = 0; i < np; ++i) {
    std::string name = io.writing() ? phases_[i] : std::string();
    io.str("phase", name);
    if (io.reading() && phase_index(name) != i) {
      throw std::runtime_error(io.origin() + ": energy ledger phase " + name +
                               " is not at its stored position");
    }
  }
  io.vec("phase_seconds", phase_seconds_);
  io.vec("phase_count", phase_count_);
  std::vector<std::uint64_t> open(open_.begin(), open_.end());
  io.vec("open", open, false);
  std::uint64_t cur = phase_;
  io.value("current", cur);
  io.value("last_t", last_t_);
  if (io.reading()) {
    for (const auto o : open)
      if (o >= np) throw std::runtime_error(io.origin() + ": energy ledger: bad open phase");
    if (cur >= np) throw std::runtime_error(io.origin() + ": energy ledger: bad current phase");
    open_.assign(open.begin(), open.end());
    phase_ = static_cast<std::size_t>(cur);
  }
  // Component x operation keys in id order (registering those not yet known), each with
  // its total (when it has one) and its per-phase cells.
  std::uint64_t n = keys_.size();
  io.value("keys", n);
  if (io.reading() && n > (1U << 20))
    throw std::runtime_error(io.origin() + ": energy ledger: too many entries");
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string comp = io.writing() ? keys_[i].component : std::string();
    std::string op = io.writing() ? keys_[i].operation : std::string();
    bool total = io.writing() && keys_[i].entry >= 0;
    io.str("component", comp);
    io.str("operation", op);
    io.value("total", total);
    if (io.reading() && key(comp, op, total) != i) {
      throw std::runtime_error(io.origin() + ": energy ledger entry " + comp + "/" + op +
                               " is not at its stored position");
    }
    auto& k = keys_[i];
    if (k.entry >= 0) {
      auto& e = entries_[static_cast<std::size_t>(k.entry)];
      io.value("joules", e.joules);
      io.value("count", e.count);
    }
    std::vector<double> j, sec;
    std::vector<std::uint64_t> c;
    for (const auto& cell : k.cells) {
      j.push_back(cell.joules);
      c.push_back(cell.count);
      sec.push_back(cell.seconds);
    }
    io.vec("cell_joules", j, false);
    io.vec("cell_count", c, false);
    io.vec("cell_seconds", sec, false);
    if (io.reading()) {
      if (c.size() != j.size() || sec.size() != j.size() || j.size() > np)
        throw std::runtime_error(io.origin() + ": energy ledger: bad cells of " + comp + "/" + op);
      k.cells.assign(j.size(), Cell{});
      for (std::size_t q = 0; q < j.size(); ++q) k.cells[q] = Cell{j[q], c[q], sec[q]};
    }
  }
}

}  // namespace memplast
