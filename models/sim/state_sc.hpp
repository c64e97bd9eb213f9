// Checkpoint helpers for SystemC values (common/state_io.hpp): an sc_time is stored as
// its integer value in units of the time resolution, so it is restored exactly.
#pragma once

#include <cstdint>

#include <systemc>

#include "common/state_io.hpp"

namespace memplast::sim {

inline void time_io(StateIO& io, const char* name, sc_core::sc_time& t) {
  std::uint64_t v = t.value();
  io.value(name, v);
  if (io.reading()) t = sc_core::sc_time::from_value(v);
}

}  // namespace memplast::sim
