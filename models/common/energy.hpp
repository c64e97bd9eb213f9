// Energy and time ledger.
//
// A block registers an entry (component, operation) once and charges it on the hot
// path with joules, a count and, where the block knows it, the simulated seconds the
// operation took. Two views are kept:
//  * the totals per component x operation (entries(), total(), by_component()): what
//    summary.json's energy_j reports;
//  * the rows per component x firmware phase x operation (rows(), csv()): energy.csv.
//    A charge lands in the phase the firmware is in when it is made (begin_phase /
//    end_phase, driven by the firmware's phase markers); before the first marker and
//    between markers that leave no phase open it lands in "other".
// The phase markers also time the phases: the simulated time between two markers goes
// to the innermost open phase (exclusive time), so the phase times sum to the time of
// the last marker (close() adds the tail up to the end of the run).
// Names are the shared schema of traces/schema.json ("ledger"), traces/README.md.
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
  // The total of one component x operation over the run, all phases.
  struct Entry {
    std::string component;
    std::string operation;
    double joules{0};
    std::uint64_t count{0};
  };
  // One row of energy.csv.
  struct Row {
    std::string component;
    std::string phase;
    std::string operation;
    std::uint64_t count{0};
    double joules{0};
    double seconds{0};
  };
  // The phase charges go to outside every firmware phase.
  static constexpr const char* kOtherPhase = "other";

  EnergyLedger();

  // Register (or find) the entry for component/operation; returns a stable id. It
  // counts in the totals (entries(), total(), by_component()) and in the rows.
  Id entry(const std::string& component, const std::string& operation);
  // Register (or find) an id that only has rows (charge_rows): a component x operation
  // the totals do not list, e.g. the bus, which charges time and no energy, or a split
  // of a total that is charged in one sum (see charge_total).
  Id row_entry(const std::string& component, const std::string& operation);

  // Totals and the current phase's row.
  void charge(Id id, double joules, std::uint64_t count = 1, double seconds = 0) {
    charge_total(id, joules, count);
    charge_rows(id, joules, count, seconds);
  }
  // Totals only: for an energy whose total is computed in one sum (bit for bit what it
  // was before the rows existed) while its rows are charged separately, operation by
  // operation (the host: "compute" in the totals, "mac" and "op" rows).
  void charge_total(Id id, double joules, std::uint64_t count = 1) {
    const auto e = keys_[id].entry;
    if (e < 0) return;
    auto& t = entries_[static_cast<std::size_t>(e)];
    t.joules += joules;
    t.count += count;
  }
  // The current phase's row only.
  void charge_rows(Id id, double joules, std::uint64_t count = 1, double seconds = 0) {
    auto& cells = keys_[id].cells;
    if (cells.size() <= phase_) cells.resize(phase_ + 1);
    auto& c = cells[phase_];
    c.joules += joules;
    c.count += count;
    c.seconds += seconds;
  }

  // Firmware phase markers at simulated time t_s (non-decreasing). end_phase closes the
  // innermost open phase; an end without an open phase is std::logic_error.
  void begin_phase(const std::string& name, double t_s);
  void end_phase(double t_s);
  // The end of the run at t_s: the time since the last marker goes to the current phase.
  void close(double t_s);
  [[nodiscard]] const std::string& phase() const { return phases_[phase_]; }
  // Exclusive simulated seconds per phase and how often each phase began, in order of
  // first appearance ("other" first).
  struct PhaseTime {
    std::string phase;
    double seconds{0};
    std::uint64_t count{0};
  };
  [[nodiscard]] std::vector<PhaseTime> phase_times() const;

  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
  [[nodiscard]] double total() const;
  // Sum by component name, or by the component's class (the name with digits and
  // indices removed, e.g. "tile3" -> "tile") when `by_class` is set.
  [[nodiscard]] std::map<std::string, double> by_component(bool by_class = false) const;
  // Every row with a non-zero count, joules or seconds, in registration order of the
  // component x operation, then phase order.
  [[nodiscard]] std::vector<Row> rows() const;
  // CSV of rows(): component,phase,operation,count,joules,seconds (joules and seconds
  // printed to round-trip precision).
  [[nodiscard]] std::string csv() const;
  static constexpr const char* kCsvHeader = "component,phase,operation,count,joules,seconds\n";
  // Adds other's totals, rows (by phase name) and phase times.
  void merge(const EnergyLedger& other);
  // Checkpoint: the phases (names, times, counts, open stack), then every component x
  // operation key in id order with its total and per-phase cells. Reading registers the
  // keys and phases not yet known in the stored order and sets their sums.
  void state_io(StateIO& io);
  // Zero every total, row and phase time (ids stay valid; open phases stay open).
  void clear();

 private:
  struct Cell {
    double joules{0};
    std::uint64_t count{0};
    double seconds{0};
  };
  struct Key {
    std::string component;
    std::string operation;
    std::int64_t entry{-1};   // index into entries_, -1 for a rows-only id
    std::vector<Cell> cells;  // by phase index
  };
  Id key(const std::string& component, const std::string& operation, bool total);
  std::size_t phase_index(const std::string& name);
  void advance(double t_s);

  std::vector<Entry> entries_;
  std::vector<Key> keys_;
  std::map<std::pair<std::string, std::string>, Id> index_;
  std::vector<std::string> phases_;  // phase index -> name; 0 = "other"
  std::vector<double> phase_seconds_;
  std::vector<std::uint64_t> phase_count_;
  std::vector<std::size_t> open_;  // the open phases, innermost last
  std::size_t phase_{0};
  double last_t_{0};
};

}  // namespace memplast
