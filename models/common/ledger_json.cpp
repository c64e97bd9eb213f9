#include "common/ledger_json.hpp"

#include <map>
#include <string>

namespace memplast {

using nlohmann::json;

namespace {

// Per-sample cost: a phase's energy and exclusive time over the samples it served.
void per_sample_costs(LedgerSummary& out, const json& phase_s,
                      const std::map<std::string, double>& by_phase, std::uint64_t samples_trained,
                      std::uint64_t samples_evaluated) {
  const auto per = [](double v, std::uint64_t n) {
    return n == 0 ? 0.0 : v / static_cast<double>(n);
  };
  const auto seconds_of = [&](const std::string& phase) {
    return phase_s.contains(phase) ? phase_s[phase].get<double>() : 0.0;
  };
  const auto joules_of = [&](const std::string& phase) {
    const auto it = by_phase.find(phase);
    return it == by_phase.end() ? 0.0 : it->second;
  };
  json train_e = json::object();
  json train_t = json::object();
  double e_sum = 0;
  double t_sum = 0;
  for (const char* p : kTrainingPhases) {
    train_e[p] = per(joules_of(p), samples_trained);
    train_t[p] = per(seconds_of(p), samples_trained);
    e_sum += joules_of(p);
    t_sum += seconds_of(p);
  }
  train_e["total"] = per(e_sum, samples_trained);
  train_t["total"] = per(t_sum, samples_trained);
  out.per_sample["training"] = {
      {"samples", samples_trained}, {"energy_j", train_e}, {"latency_s", train_t}};
  out.per_sample["inference"] = {{"samples", samples_evaluated},
                                 {"energy_j",
                                  {{"evaluation", per(joules_of("evaluation"), samples_evaluated)},
                                   {"total", per(joules_of("evaluation"), samples_evaluated)}}},
                                 {"latency_s",
                                  {{"evaluation", per(seconds_of("evaluation"), samples_evaluated)},
                                   {"total", per(seconds_of("evaluation"), samples_evaluated)}}}};
}

}  // namespace

LedgerSummary ledger_summary(const EnergyLedger& ledger, std::uint64_t samples_trained,
                             std::uint64_t samples_evaluated) {
  LedgerSummary out;
  const auto rows = ledger.rows();
  double total = 0;
  std::map<std::string, double> by_component;
  std::map<std::string, double> by_phase;
  std::map<std::string, double> bus_by_phase;
  double bus_s = 0;
  double arbitration_s = 0;
  std::uint64_t bus_transfers = 0;
  double dma_s = 0;
  double dma_busy_s = 0;
  std::uint64_t dma_transfers = 0;
  double host_mem_s = 0;
  double tile_busy_s = 0;
  double queue_full_s = 0;
  for (const auto& r : rows) {
    total += r.joules;
    by_component[r.component] += r.joules;
    by_phase[r.phase] += r.joules;
    // Contention rows of the tiles and meta_unit (any instance name): time, 0 J.
    if (r.operation == "busy_wait") tile_busy_s += r.seconds;
    if (r.operation == "queue_full_wait") queue_full_s += r.seconds;
    if (r.component == "bus") {
      if (r.operation == "arbitration_wait") {
        arbitration_s += r.seconds;
      } else {
        bus_s += r.seconds;
        bus_transfers += r.count;
        bus_by_phase[r.phase] += r.seconds;
      }
    } else if (r.component == "dma") {
      if (r.operation == "channel_busy") {
        dma_busy_s += r.seconds;
      } else if (r.operation == "transfer") {
        dma_s += r.seconds;
        dma_transfers += r.count;
      }
    } else if (r.component == "host_mem") {
      host_mem_s += r.seconds;
    }
  }
  out.ledger = {{"total_j", total},
                {"rows", rows.size()},
                {"by_component_j", by_component},
                {"by_phase_j", by_phase}};

  json phase_s = json::object();
  json phase_n = json::object();
  double phases_sum = 0;
  for (const auto& p : ledger.phase_times()) {
    phase_s[p.phase] = p.seconds;
    phase_n[p.phase] = p.count;
    phases_sum += p.seconds;
  }
  out.time = {{"by_phase", phase_s},
              {"phase_count", phase_n},
              {"phases_sum", phases_sum},
              {"data_movement",
               {{"bus", bus_s},
                {"bus_transfers", bus_transfers},
                {"bus_by_phase", bus_by_phase},
                {"dma", dma_s},
                {"dma_transfers", dma_transfers},
                {"host_mem", host_mem_s}}},
              {"contention",
               {{"bus_arbitration", arbitration_s},
                {"tile_busy", tile_busy_s},
                {"pv_queue_full", queue_full_s},
                {"dma_channel_busy", dma_busy_s}}}};

  per_sample_costs(out, phase_s, by_phase, samples_trained, samples_evaluated);
  return out;
}

}  // namespace memplast
