// Parameters of the 1T1R HfO2 device model (keys device.*): a plain aggregate whose
// member initializers are the keys' defaults. Model and sources: docs/device.md.
#pragma once

#include <string>
#include <vector>

#include "common/schema.hpp"

namespace memplast::device {

struct DeviceParams {
  // Conductance range
  double g_min_uS{5.0};    // HRS / floor of the programmable range
  double g_max_uS{225.0};  // LRS ceiling of the programmable range
  // SET: select transistor (square law) and conductance per compliance current
  double vth_V{0.45};
  double k_tr_uA_per_V2{151.0};
  double k_g_uS_per_uA{1.25};
  // RESET: gradual, exponential in the overdrive above the reset threshold
  double v_reset_th_V{1.2};
  double v_reset_scale_V{0.5};
  // Cycle-to-cycle programming error sigma(G) = c2c_scale * (slope * G + offset)
  double sigma_slope{-0.009107};
  double sigma_offset_uS{4.782};
  double sigma_fit_lo_uS{50.0};
  double sigma_fit_hi_uS{225.0};
  double c2c_scale{1.0};
  // Device-to-device spread (drawn once per cell)
  double d2d_gain_sigma{0.05};      // relative sigma of k_g (per-cell gain)
  double d2d_vth_sigma_V{0.02};     // sigma of the per-cell transistor V_th offset
  double d2d_vreset_sigma_V{0.05};  // sigma of the per-cell RESET threshold offset
  // Read noise
  double read_sigma_abs_uS{0.3};
  double read_sigma_frac{0.01};
  // Relaxation
  double relax_sigma_frac{0.10};  // of g_max
  double relax_scale{1.0};        // multiplies relax_sigma_frac and relax_mean_frac
  double relax_mean_frac{0.0};    // of g_max
  double relax_t0_s{1e-3};
  double relax_tsat_s{1e4};
  // I-V nonlinearity: I = G V (1 + a2(G) V + a3(G) V^2) with a2, a3 = nl_a2_per_V,
  // nl_a3_per_V2 at LRS (g_max) and nl_hrs_factor times that at HRS (g_min), interpolated
  // linearly in log G between them (iv_coeffs; docs/device.md "I-V nonlinearity").
  double nl_a2_per_V{0.0};
  double nl_a3_per_V2{0.0};
  double nl_hrs_factor{1.0};
  // Read disturb (docs/device.md "Read disturb"): a read at cell voltage V moves G toward
  // g_max by the fraction read_disturb_rate * exp((|V| - read_disturb_v_ref_V) /
  // read_disturb_v_accel_V), times (1 + read_disturb_sigma z) per application; 0 = off.
  double read_disturb_rate{0.0};
  double read_disturb_v_ref_V{0.2};
  double read_disturb_v_accel_V{0.05};
  double read_disturb_sigma{0.3};
  // Endurance and faults
  double endurance_median{3.16e5};
  double endurance_sigma_ln{0.576};
  double stuck_lrs_prob{0.5};  // probability a worn-out / injected cell sticks at LRS
  double stuck_rate{0.0};      // fraction of cells stuck at construction
  // Cells stuck at given places and times: "tile:row:col:side:kind[@t_s]" entries
  // separated by ';' (parse_stuck_cells); empty = none.
  std::string stuck_cells;
  // Ideal device: every spread, noise, relaxation, nonlinearity and wear-out above is
  // ignored (ideal_params); the nominal SET/RESET laws remain.
  bool ideal{false};
};

void bind_params(cfg::Schema& s, DeviceParams& p);

// One entry of device.stuck_cells: the cell (row, physical column: 0 .. tile.cols-1 for
// the weight columns, tile.cols .. tile.cols + tile.spare_cols - 1 for the spare ones)
// of the named tile's G+ (side "pos", or the only device of a reference-column tile) or
// G- ("neg") array sticks at LRS ("lrs") or HRS ("hrs") at simulated time t_s (0 = from
// the start; later = it wears out then, the next time the tile touches its devices).
struct StuckCellSpec {
  std::string tile;  // tile name, e.g. "layer0_t3" (both modes name tiles so)
  int row{0};
  int col{0};
  bool neg{false};
  bool lrs{true};
  double t_s{0};
};
// Parses device.stuck_cells ("layer0_t3:12:40:pos:lrs@0.5; layer1_t0:0:3:neg:hrs");
// throws cfg::ConfigError naming the key and the entry.
std::vector<StuckCellSpec> parse_stuck_cells(const std::string& text);

// `p` with every random spread switched off by its scale: no cycle-to-cycle or
// device-to-device spread, no read noise, no relaxation. The laws' fit parameters
// (sigma_slope, relax_mean_frac, ...) are kept, so one spread comes back by setting its
// scale alone (the device tests do so). I-V nonlinearity, stuck cells and wear-out stay.
DeviceParams without_spread(DeviceParams p);

// `p` with its non-idealities removed, as a DeviceArray uses it when p.ideal is set:
// no device-to-device or cycle-to-cycle spread, no read noise, no relaxation, a linear
// I-V law, no stuck cells and no wear-out (the endurance budget is the largest the
// model holds, 4e9 pulses, for every cell).
DeviceParams ideal_params(DeviceParams p);

// I-V coefficients of a cell of conductance g (uS): a2 (1/V) and a3 (1/V^2) of
// I = G V (1 + a2 V + a3 V^2). s(G) = 1 + (nl_hrs_factor - 1)(1 - t), t = ln(G/g_min) /
// ln(g_max/g_min) clamped to [0, 1]; a2 = nl_a2_per_V s, a3 = nl_a3_per_V2 s. With
// nl_hrs_factor = 1 the coefficients are the keys' values, whatever G.
struct IvCoeffs {
  double a2{0};
  double a3{0};
};
IvCoeffs iv_coeffs(const DeviceParams& p, double g_uS);
// Whether p's I-V law is nonlinear (a coefficient is not 0).
inline bool iv_nonlinear(const DeviceParams& p) {
  return p.nl_a2_per_V != 0.0 || p.nl_a3_per_V2 != 0.0;
}

}  // namespace memplast::device
