// Crossbar tile parameters (keys "tile.*"). Kept free of Eigen and of the device model
// so the configuration layer can include it cheaply. See docs/tile.md.
#pragma once

#include <cstdint>
#include <string>

#include "common/schema.hpp"

namespace memplast::tile {

struct TileParams {
  // Geometry and weight mapping.
  std::int64_t rows{128};
  std::int64_t cols{128};
  // Spare columns per tile (column repair): physical columns beyond `cols` that a weight
  // column with failed cells can be remapped to (TileCore::remap_column). 0 = none.
  std::int64_t spare_cols{0};
  std::string mapping{"differential"};  // "differential" | "reference_column"
  // Weight levels L the tile stores, uniform in [-1, 1]. Not a key: the one truth is
  // meta.levels, which the configuration's level check copies here (3 = its default).
  std::int64_t levels{3};
  // Key tile.levels: conductance levels per device, 0 = derived from the weight levels
  // and the mapping (device_levels_for); any other value must equal the derived one.
  std::int64_t device_levels{0};
  double g_off_uS{5.0};   // conductance of a weight-0 device (HRS side)
  double g_on_uS{200.0};  // conductance of a full-scale device
  double v_read_V{0.2};   // read voltage of a full-scale input
  // Converters.
  std::string encoding{"amplitude"};  // "amplitude" | "bit_serial"
  std::int64_t dac_bits{8};
  std::int64_t adc_bits{8};
  std::int64_t cols_per_adc{8};     // columns (or rows, transpose) sharing one ADC
  double adc_range_fraction{0.25};  // ADC full scale / max possible column signal
  bool ideal_converters{false};     // bypass DAC and ADC quantization
  bool read_noise{true};            // aggregate read noise on every output
  // Timing.
  double t_dac_ns{1.0};
  double t_settle_ns{10.0};
  double f_adc_MHz{200.0};
  double t_pulse_ns{100.0};
  double relax_refresh_s{1.0};       // cached conductances refreshed when time moved more
  double f_clk_MHz{100.0};           // register/bus interface clock of the SystemC shell
  std::int64_t buffer_vectors{100};  // input/output buffer depth (vectors) of the shell
  // Energy.
  double adc_fom_fJ{50.0};  // Walden FoM, fJ per conversion step
  double e_dac_fJ_per_bit{16.0};
  double e_row_pJ{0.5};
  double e_digital_pJ{0.5};  // one shift-and-add / accumulate of one output
  double e_pulse_pJ{10.0};   // one SET or RESET pulse (cell + driver)
  // ADC mismatch and its start-up trim (docs/tile.md "ADC offset and gain trim").
  double adc_offset_sigma_lsb{0.0};    // per sensed line, offset spread (ADC steps)
  double adc_gain_sigma{0.0};          // per sensed line, relative gain spread
  std::int64_t adc_trim_points{16};    // reference inputs per line in the trim
  std::string adc_calibration{"off"};  // "off" | "startup": the firmware runs the trim
  // ADC input range (docs/tile.md "ADC input-range profiling").
  std::string adc_range{"fixed"};     // "fixed" | "profile_tile" | "profile_layer"
  double adc_range_percentile{99.9};  // percent of the profiled |codes| inside the range
  // IR drop (docs/tile.md "IR drop", models/tile/ir_drop.hpp).
  std::string ir_drop{"off"};    // "off" | "approx" | "exact"
  double ir_r_row_ohm{0.5};      // row wire resistance per segment (cell pitch)
  double ir_r_col_ohm{0.5};      // column wire resistance per segment
  double ir_r_driver_ohm{10.0};  // line driver output resistance
  double ir_r_sense_ohm{10.0};   // sense amplifier input resistance
  bool ir_compensation{false};   // per-line sense gain trim from a calibration read
};

void bind_params(cfg::Schema& s, TileParams& p);

// The conductance levels one device needs to hold weights of `weight_levels` levels
// (uniform in [-1, 1]) with this mapping (docs/tile.md "Weight levels and device
// levels"): differential, floor(L/2) + 1 (each device of the pair holds 0 or one of the
// positive magnitudes, 0 shared by both signs); reference column, L (one device per
// weight). Throws cfg::ConfigError for an unknown mapping.
std::int64_t device_levels_for(const std::string& mapping, std::int64_t weight_levels);

// The cross-check of meta.levels (`weight_levels`) against tile.levels (p.device_levels)
// and tile.mapping; copies the weight levels into p.levels. Throws cfg::ConfigError
// naming both keys and the value expected when they contradict.
void resolve_levels(TileParams& p, std::int64_t weight_levels);

}  // namespace memplast::tile
