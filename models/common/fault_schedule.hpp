// When an injected fault hits (faults.*_rate and faults.*_at_s, docs/reliability.md): each
// operation is hit with probability `rate` (one uniform draw from its own named stream per
// operation, only when rate > 0), and the first operation at or after each scheduled time
// is hit (several times passed at once hit it once). Used by the bus router, the DMA
// engine and the tiles' ADC saturation, so that they share one rule and one checkpoint
// layout.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/rng.hpp"
#include "common/state_io.hpp"

namespace memplast {

class FaultSchedule {
 public:
  FaultSchedule() = default;
  // `at_s` in seconds of simulated time (any order); draws from stream `stream` of `seed`.
  FaultSchedule(double rate, std::vector<double> at_s, std::uint64_t seed, std::string_view stream)
      : rate_(rate), at_s_(std::move(at_s)), rng_(seed, stream) {
    std::sort(at_s_.begin(), at_s_.end());
  }

  // Any fault configured (rate > 0 or a time given).
  [[nodiscard]] bool configured() const { return rate_ > 0 || !at_s_.empty(); }
  // A fault can still hit (rate > 0 or a time not yet reached).
  [[nodiscard]] bool pending() const { return rate_ > 0 || next_ < at_s_.size(); }

  // Whether the operation at `t_s` is hit; consumes the draw and the times passed.
  bool hit(double t_s) {
    bool h = rate_ > 0 && rng_.uniform() < rate_;
    if (next_ < at_s_.size() && t_s >= at_s_[next_]) {
      while (next_ < at_s_.size() && t_s >= at_s_[next_]) ++next_;
      h = true;
    }
    return h;
  }

  // The stream, for draws that shape the fault once it hit (e.g. which ADC saturates).
  Rng& rng() { return rng_; }

  // The stream and the next scheduled time's index, as `<prefix>rng` and `<prefix>next`.
  void state_io(StateIO& io, const std::string& prefix) {
    io.rng((prefix + "rng").c_str(), rng_);
    io.value((prefix + "next").c_str(), next_);
  }

 private:
  double rate_{0.0};
  std::vector<double> at_s_;
  std::uint64_t next_{0};
  Rng rng_;
};

}  // namespace memplast
