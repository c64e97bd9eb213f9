// The characterization top: one tile::TileModule and a pv::PvCtrl driven by a small
// SystemC driver, as one would characterize the silicon. The first `cells` weights of
// the tile (row-major; characterize.cells, 0 = all) get weight levels round-robin
// (weight i: level i mod L), pushed into pv_ctrl's queue (the driver waits when it is
// full); the pv_ctrl record callback reads each device independently at the instant its
// loop ended; once pv_ctrl is idle every programmed device is read back, and again
// characterize.relax_s later. One elaboration and one sc_start per process.
// `memplast characterize` (models/cli/cmd_characterize.cpp) turns the result into its
// CSV/JSON outputs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "pv/pv_ctrl.hpp"

namespace memplast::system {

struct CharacterizeSample {
  pv::PvDeviceRecord rec;
  double g_prog_uS{0};   // read right after the device's own loop ended (with read noise)
  double g_end_uS{0};    // read at the end of the whole programming run
  double g_relax_uS{0};  // read back relax_s later
  bool stuck{false};     // stuck at construction or worn out (device model flag)
};

struct CharacterizeRun {
  std::int64_t weights{0};                  // weights programmed
  std::vector<CharacterizeSample> samples;  // one per programmed device, in loop order
  pv::PvCtrlStats pv_stats;
  double energy_pv_J{0};                             // pv_ctrl's energy, all phases
  std::map<std::string, double> energy_pv_by_phase;  // joules
  double t_programming_s{0};                         // simulated time when pv_ctrl went idle
  double t_end_s{0};  // simulated time at the end (after the relaxation read-back)
};

// Weights the run programs: characterize.cells, or the whole tile when it is 0. Throws
// cfg::ConfigError when characterize.cells exceeds the tile.
std::int64_t characterize_weights(const Config& cfg);

// Elaborate the characterization top from `cfg` and simulate it to the end.
CharacterizeRun run_characterization(const Config& cfg);

}  // namespace memplast::system
