// summary.json's view of the energy and time ledger (common/energy.hpp): the ledger's
// totals, the simulated time by firmware phase and by data movement, the named
// contention times, and the per-sample cost table. Layout: docs/system.md, "summary.json".
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/energy.hpp"

namespace memplast {

// The firmware phases a training sample's cost is summed over (per_sample.training).
inline constexpr const char* kTrainingPhases[] = {"batch",    "forward", "loss",
                                                  "backward", "update",  "programming"};

struct LedgerSummary {
  nlohmann::json ledger;      // summary.json "ledger"
  nlohmann::json time;        // summary.json "time_s"
  nlohmann::json per_sample;  // summary.json "per_sample"
};

// `ledger` closed at the end of the run (EnergyLedger::close); `samples_trained` and
// `samples_evaluated` from the trainer.
LedgerSummary ledger_summary(const EnergyLedger& ledger, std::uint64_t samples_trained,
                             std::uint64_t samples_evaluated);

}  // namespace memplast
