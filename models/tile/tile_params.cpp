// Configuration keys "tile.*" of the crossbar tile.
#include "tile/tile_params.hpp"

#include <fmt/format.h>

namespace memplast::tile {

void bind_params(cfg::Schema& s, TileParams& p) {
  s.add("tile.rows", &p.rows, 1, 4096, "", "Rows (word lines, driven in forward MVM) per tile",
        "calibration.md: 16 kbit 1T1R array, 128 x 128 (the paper)");
  s.add("tile.cols", &p.cols, 1, 4096, "", "Columns (bit lines, sensed in forward MVM) per tile",
        "calibration.md: 16 kbit 1T1R array, 128 x 128 (the paper)");
  s.add("tile.spare_cols", &p.spare_cols, 0, 4096, "",
        "Spare columns per tile (column repair): extra physical columns of devices, idle until "
        "the firmware remaps a weight column with failed cells to one (register COL_REMAP); "
        "they are not read by MVMs before that",
        "assumption: none by default; memories spend a few percent of the columns on repair");
  s.add("tile.mapping", &p.mapping, {"differential", "reference_column"},
        "Signed-weight mapping: a differential pair G+ - G- per weight, or one device per "
        "weight against a shared reference column at (g_on+g_off)/2");
  s.add("tile.levels", &p.device_levels, 0, 256, "",
        "Conductance levels per device; 0 = derived from meta.levels (the weight levels L, "
        "the one truth) and tile.mapping: differential floor(L/2)+1, reference_column L. Any "
        "other value must equal the derived one (docs/tile.md)",
        "derived: ternary weights (meta.levels = 3) on differential pairs use 2 levels");
  s.add("tile.g_off_uS", &p.g_off_uS, 0.0, 1000.0, "uS",
        "Conductance target of a device carrying no weight (HRS side of the pair)",
        "assumption: HRS of HfO2 1T1R, a few uS (Leti family); keep inside device range");
  s.add("tile.g_on_uS", &p.g_on_uS, 0.0, 1000.0, "uS",
        "Conductance target of a device carrying a full-scale weight (|w| = 1)",
        "assumption: LRS inside the 50..225 uS P&V fit range (calibration.md) and below "
        "device.g_max_uS");
  s.add("tile.v_read_V", &p.v_read_V, 0.01, 1.0, "V", "Read voltage of a full-scale input",
        "calibration.md: read 0.1..0.3 V");
  s.add("tile.encoding", &p.encoding, {"amplitude", "bit_serial"},
        "Input encoding: one read at a DAC amplitude, or one 1-bit pulse per input bit "
        "(shift-and-add after the ADC)");
  s.add("tile.dac_bits", &p.dac_bits, 1, 16, "bit", "DAC resolution (input bits)",
        "assumption: 8-bit activations");
  s.add("tile.adc_bits", &p.adc_bits, 1, 16, "bit", "ADC resolution (signed output code)",
        "assumption: 8 b SAR (calibration.md gives 4..8 b figures)");
  s.add("tile.cols_per_adc", &p.cols_per_adc, 1, 4096, "",
        "Columns (rows, in transpose) sharing one ADC through a mux; their conversions run in "
        "series",
        "assumption: 8:1 mux, common in RRAM CIM macros");
  s.add("tile.adc_range_fraction", &p.adc_range_fraction, 1e-4, 1.0, "",
        "ADC full scale as a fraction of the largest possible output (all inputs 1, all "
        "weights +1)",
        "assumption: typical outputs use a small part of the worst case");
  s.add("tile.ideal_converters", &p.ideal_converters,
        "Bypass DAC and ADC quantization and clipping (ideal periphery; costs still charged)");
  s.add("tile.read_noise", &p.read_noise,
        "Add read noise to every output as the aggregate of its devices' read noise");
  s.add("tile.t_dac_ns", &p.t_dac_ns, 0.0, 1e6, "ns", "DAC settling per applied input vector",
        "assumption");
  s.add("tile.t_settle_ns", &p.t_settle_ns, 0.0, 1e6, "ns",
        "Array settling (read pulse) per applied input vector",
        "calibration.md: read energy per cell at 10 ns");
  s.add("tile.f_adc_MHz", &p.f_adc_MHz, 1.0, 1e5, "MHz",
        "SAR ADC clock; one conversion takes (adc_bits + 2) cycles",
        "calibration.md: SAR (bits + 2) cycles; clock an assumption");
  s.add("tile.t_pulse_ns", &p.t_pulse_ns, 1.0, 1e6, "ns", "Duration of one SET/RESET pulse",
        "calibration.md: pulses 100 ns..1 us");
  s.add("tile.relax_refresh_s", &p.relax_refresh_s, 0.0, 1e9, "s",
        "The cached conductance matrix is recomputed (relaxation) when simulated time moved "
        "more than this since the last full refresh",
        "assumption: relaxation acts over hours");
  s.add("tile.f_clk_MHz", &p.f_clk_MHz, 1.0, 1e4, "MHz",
        "Register interface clock of the SystemC tile (one cycle per register access)",
        "assumption");
  s.add("tile.buffer_vectors", &p.buffer_vectors, 1, 4096, "",
        "Input/output buffer depth of the SystemC tile, in vectors (one batch)",
        "assumption: batch 100 (paper-notes.md)");
  s.add("tile.adc_fom_fJ", &p.adc_fom_fJ, 0.0, 1e4, "fJ/step",
        "Walden figure of merit: ADC energy per conversion = FoM * 2^adc_bits",
        "calibration.md: SAR 130 nm 20..100 fJ/step");
  s.add("tile.e_dac_fJ_per_bit", &p.e_dac_fJ_per_bit, 0.0, 1e6, "fJ",
        "DAC energy per conversion per bit (amplitude: x dac_bits; bit-serial: x 1 per pulse)",
        "calibration.md: 1 b DAC 4 fJ at 32 nm, x4 for 130 nm (assumption)");
  s.add("tile.e_row_pJ", &p.e_row_pJ, 0.0, 1e3, "pJ",
        "Word-line (line) driver energy per activation", "calibration.md: 0.2..0.9 pJ");
  s.add("tile.e_digital_pJ", &p.e_digital_pJ, 0.0, 1e3, "pJ",
        "Digital shift-and-add / rescale of one output per conversion",
        "calibration.md: int32 add 0.1 pJ at 45 nm, x5 for 130 nm");
  s.add("tile.e_pulse_pJ", &p.e_pulse_pJ, 0.0, 1e6, "pJ", "Energy of one SET or RESET pulse",
        "calibration.md: about V I t = 1 V x 100 uA x 100 ns");
  s.add("tile.adc_offset_sigma_lsb", &p.adc_offset_sigma_lsb, 0.0, 1e3, "LSB",
        "Standard deviation of each sensed line's ADC offset (comparator and sense-amplifier "
        "offset), in ADC steps; 0 = ideal",
        "assumption: a few mV of comparator offset against a few-mV LSB, i.e. of order 1 LSB");
  s.add("tile.adc_gain_sigma", &p.adc_gain_sigma, 0.0, 0.5, "",
        "Standard deviation of each sensed line's relative ADC gain error; 0 = ideal",
        "assumption: reference and sense-amplifier gain mismatch of a few percent");
  s.add("tile.adc_trim_points", &p.adc_trim_points, 2, 1024, "",
        "Reference inputs per sensed line in the start-up ADC trim (least-squares offset and "
        "gain)",
        "assumption");
  s.add("tile.adc_calibration", &p.adc_calibration, {"off", "startup"},
        "ADC offset/gain trim in a run: off, or run by the firmware at start-up on every tile "
        "(tile command ADC_TRIM; costs time and energy); docs/tile.md");
  s.add("tile.adc_range", &p.adc_range, {"fixed", "profile_tile", "profile_layer"},
        "ADC input range: fixed (tile.adc_range_fraction), or chosen by the firmware from a "
        "profiling read of the first MVM of each layer and direction, per tile or per layer "
        "(tile.adc_range_percentile of the profiled |codes| inside the range); docs/tile.md");
  s.add("tile.adc_range_percentile", &p.adc_range_percentile, 50.0, 100.0, "%",
        "Percentile of the profiled ADC input magnitudes the chosen range covers "
        "(tile.adc_range = profile_*)",
        "assumption: clip about 1 in 1000 conversions");
  s.add("tile.ir_drop", &p.ir_drop, {"off", "approx", "exact"},
        "IR drop of the wires and line terminals in every MVM: off, a first-order estimate "
        "(approx), or the nodal solution (exact); docs/tile.md");
  s.add("tile.ir_r_row_ohm", &p.ir_r_row_ohm, 0.0, 1e6, "ohm",
        "Row wire resistance per segment (one cell pitch)",
        "derived: Cu line 0.2 um wide, 0.3 um thick, 1.3 um pitch, 2.2e-8 ohm m (assumption on "
        "the 130 nm geometry)");
  s.add("tile.ir_r_col_ohm", &p.ir_r_col_ohm, 0.0, 1e6, "ohm",
        "Column wire resistance per segment (one cell pitch)", "derived: as tile.ir_r_row_ohm");
  s.add("tile.ir_r_driver_ohm", &p.ir_r_driver_ohm, 0.0, 1e6, "ohm",
        "Output resistance of a line driver (DAC buffer)", "assumption");
  s.add("tile.ir_r_sense_ohm", &p.ir_r_sense_ohm, 0.0, 1e6, "ohm",
        "Input resistance of a sense amplifier (virtual ground)", "assumption");
  s.add("tile.ir_compensation", &p.ir_compensation,
        "IR-drop compensation: after every weight write the tile trims each sensed physical "
        "line's gain from a calibration read with every input on (charged to the next MVM); "
        "needs tile.ir_drop on");
  s.add_check([&p] {
    if (p.g_on_uS <= p.g_off_uS) {
      throw cfg::ConfigError(
          fmt::format("keys 'tile.g_on_uS' ({}) and 'tile.g_off_uS' ({}): g_on must exceed g_off",
                      p.g_on_uS, p.g_off_uS));
    }
    if (p.ir_drop != "off" && p.mapping != "differential") {
      throw cfg::ConfigError(fmt::format(
          "keys 'tile.ir_drop' ({}) and 'tile.mapping' ({}): IR drop is modelled for the "
          "differential mapping only",
          p.ir_drop, p.mapping));
    }
    if (p.adc_range != "fixed" && (p.ideal_converters || p.adc_bits > 14)) {
      throw cfg::ConfigError(fmt::format(
          "keys 'tile.adc_range' ({}), 'tile.ideal_converters' and 'tile.adc_bits' ({}): "
          "profiling the ADC range needs real converters of at most 14 bits (the PROFILE "
          "window holds 2^(adc_bits-1)+1 counts)",
          p.adc_range, p.adc_bits));
    }
    if (p.ir_drop == "exact" && !(p.ir_r_row_ohm > 0 && p.ir_r_col_ohm > 0)) {
      throw cfg::ConfigError(
          "keys 'tile.ir_drop' (exact), 'tile.ir_r_row_ohm' and 'tile.ir_r_col_ohm': the nodal "
          "solver needs wire resistances > 0");
    }
  });
}

std::int64_t device_levels_for(const std::string& mapping, std::int64_t weight_levels) {
  if (mapping == "differential") return weight_levels / 2 + 1;
  if (mapping == "reference_column") return weight_levels;
  throw cfg::ConfigError(fmt::format("key 'tile.mapping': unknown mapping '{}'", mapping));
}

void resolve_levels(TileParams& p, std::int64_t weight_levels) {
  const std::int64_t need = device_levels_for(p.mapping, weight_levels);
  if (p.device_levels != 0 && p.device_levels != need) {
    throw cfg::ConfigError(fmt::format(
        "keys 'tile.levels' ({}) and 'meta.levels' ({}) contradict: with tile.mapping = {}, "
        "weights of {} levels need {} conductance levels per device; set tile.levels = {} or "
        "leave it out (0 = derived from meta.levels)",
        p.device_levels, weight_levels, p.mapping, weight_levels, need, need));
  }
  p.levels = weight_levels;
}

}  // namespace memplast::tile
