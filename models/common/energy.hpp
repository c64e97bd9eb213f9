// Energy ledger: every event charges (component, phase) with joules and a count.
// Entries are registered once (an id) so charging on the hot path is two adds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/state_io.hpp"

namespace memplast {

class EnergyLedger {
 public:
  using Id = std::uint32_t;
  struct Entry {
    std::string component;
    std::string phase;
    double joules{0};
    std::uint64_t count{0};
  };

  // Register (or find) the entry for component/phase; returns a stable id.
  Id entry(const std::string& component, const std::string& phase);
  void charge(Id id, double joules, std::uint64_t count = 1) {
    auto& e = entries_[id];
    e.joules += joules;
    e.count += count;
  }
  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
  [[nodiscard]] double total() const;
  // Sum by component name, or by the component's class (the name with digits and
  // indices removed, e.g. "tile3" -> "tile") when `by_class` is set.
  [[nodiscard]] std::map<std::string, double> by_component(bool by_class = false) const;
  // CSV: component,phase,joules,count
  [[nodiscard]] std::string csv() const;
  void merge(const EnergyLedger& other);
  // Checkpoint: every entry in id order (component, phase, joules, count). Reading
  // registers the entries not yet known in the stored order and sets their sums.
  void state_io(StateIO& io);
  void clear();

 private:
  std::vector<Entry> entries_;
  std::map<std::pair<std::string, std::string>, Id> index_;
};

}  // namespace memplast
