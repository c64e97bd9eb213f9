// Energy over simulated time for the report's power plot (power.csv): the run samples
// the energy ledger's cumulative joules per block at every batch boundary and at the
// end; the power of an interval is its energy over its duration.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/energy.hpp"

namespace memplast {

class PowerSeries {
 public:
  // One sample at simulated time t_s: the ledger's joules so far per block (tile modules
  // "layer<l>_t<k>" summed per layer as "layer<l>_tiles"), plus `host_j` added to the
  // block "host" (host compute a run charges to the ledger only at its end).
  void sample(double t_s, const EnergyLedger& ledger, double host_j = 0);
  [[nodiscard]] bool empty() const { return t_.empty(); }
  // simulated_time_s,<block>... (cumulative joules; blocks sorted, a block missing from
  // an early sample is 0 there).
  [[nodiscard]] std::string csv() const;

 private:
  std::vector<double> t_;
  std::vector<std::map<std::string, double>> e_;
};

}  // namespace memplast
