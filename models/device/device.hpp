// 1T1R HfO2 multi-level device model (plain C++, no SystemC).
//
// API CONTRACT (agreed between the device, pv and tile owners; extend, don't break):
// a DeviceArray holds N cells as structure-of-arrays. Conductances are in uS, times
// in seconds of simulated time, voltages in V. Every random draw comes from the
// array's own seeded streams.
//
// Model summary (equations and sources in docs/device.md):
//  * SET: compliance current I_cc(V_g) = k_tr (V_g - V_th)^2 (square-law select
//    transistor in saturation, 0 below V_th); target G_set = g_min + k_g * gain_i * I_cc,
//    clamped to [g_min, g_max]. A SET pulse only raises the conductance:
//    G <- max(G, G_set + c2c noise).
//  * RESET: G <- g_min + (G - g_min) exp(-max(0, V_r - V_rth_i) / v_reset_scale) + c2c noise.
//  * c2c noise sigma(G) = c2c_scale * (sigma_slope * G + sigma_offset_uS) (G clamped to
//    the fit range), the Milo et al. fit.
//  * Relaxation: each pulse draws an offset r_i ~ N(relax_mean_frac, relax_sigma_frac) * g_max;
//    G(t) = G_prog + r_i * min(1, log(1 + dt/t0) / log(1 + t_sat/t0)), dt = t - t_write.
//  * Read noise: sigma_read(G) = read_sigma_abs_uS + read_sigma_frac * G.
//  * Endurance: per-cell budget ~ lognormal(endurance_median, endurance_sigma_ln); the
//    pulse that exceeds it leaves the cell stuck at LRS (prob. stuck_lrs_prob) or HRS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/rng.hpp"
#include "common/state_io.hpp"
#include "device/device_params.hpp"

namespace memplast::device {

enum class Stuck : std::uint8_t { none = 0, at_lrs = 1, at_hrs = 2 };

class DeviceArray {
 public:
  // `seed` is already derived for this array (e.g. derive_seed(global, "tile0.pos")).
  // All cells start at g_min (HRS), written at t = 0, not relaxing. With p.ideal the
  // array uses ideal_params(p) (same random streams, every spread zero).
  DeviceArray(const DeviceParams& p, std::size_t n_cells, std::uint64_t seed);

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] const DeviceParams& params() const;

  // One SET pulse (gate voltage sets the compliance current, hence the level) or
  // RESET pulse (source-line amplitude) on cell i at simulated time t_s. Each pulse
  // counts toward the cell's endurance budget; a worn-out cell becomes stuck.
  void set_pulse(std::size_t i, double v_gate_V, double t_s);
  void reset_pulse(std::size_t i, double v_reset_V, double t_s);

  // One verify read of cell i at time t_s (includes read noise and relaxation), uS.
  double read(std::size_t i, double t_s);
  // Noiseless conductance of cell i at time t_s (relaxation applied), uS.
  [[nodiscard]] double conductance(std::size_t i, double t_s) const;
  // Noiseless conductances of all cells at t_s into out[0..size()), uS.
  void conductances(double t_s, float* out) const;
  // Standard deviation of one read of a cell of conductance g, uS.
  [[nodiscard]] double read_sigma(double g_uS) const;

  // Ideal write (no pulses counted, no error): for initial states and ideal modes.
  void force(std::size_t i, double g_uS, double t_s);

  [[nodiscard]] std::uint32_t pulses(std::size_t i) const;
  [[nodiscard]] Stuck stuck(std::size_t i) const;
  void make_stuck(std::size_t i, Stuck kind, double t_s);

  // ---- additions (device owner) ----
  // Cell current in uA at read voltage v_V (I-V nonlinearity applied, its coefficients
  // those of the cell's conductance: iv_coeffs), time t_s.
  [[nodiscard]] double current(std::size_t i, double v_V, double t_s) const;
  // Same law for a given conductance (for vectorised use by the tile), uA.
  [[nodiscard]] double current_of(double g_uS, double v_V) const;
  // Nominal (no d2d, no noise) compliance current and SET conductance for a gate
  // voltage, and the nominal gate voltage that SETs to g (inverse map; a real
  // controller's calibration table).
  [[nodiscard]] double compliance_uA(double v_gate_V) const;
  [[nodiscard]] double g_set_nominal(double v_gate_V) const;
  [[nodiscard]] double gate_for(double g_uS) const;
  // Nominal RESET amplitude that takes a cell from g_from to g_to (the inverse of the
  // RESET law without d2d offset); v_reset_th when g_to >= g_from; +infinity when g_to
  // is at or below g_min (the law approaches g_min only asymptotically).
  [[nodiscard]] double reset_for(double g_from_uS, double g_to_uS) const;
  // Standard deviation of one programming pulse's outcome at conductance g, uS.
  [[nodiscard]] double prog_sigma(double g_uS) const;
  // Relaxation time profile in [0, 1] for dt seconds since the last write.
  [[nodiscard]] double relax_profile(double dt_s) const;
  // Endurance budget (pulses the cell survives) and time of its last write.
  [[nodiscard]] std::uint32_t budget(std::size_t i) const;
  [[nodiscard]] double last_write_s(std::size_t i) const;
  // Programmed (pre-relaxation) conductance and the pending relaxation offset, uS.
  [[nodiscard]] double programmed(std::size_t i) const;
  [[nodiscard]] double relax_offset(std::size_t i) const;
  // Per-cell device-to-device parameters.
  [[nodiscard]] double d2d_gain(std::size_t i) const;
  [[nodiscard]] double d2d_vth_V(std::size_t i) const;
  // Read disturb (docs/device.md): `dose` reads' worth at read_disturb_v_ref_V (the sum
  // of exp((|V| - v_ref) / v_accel) over the reads since the last application) move the
  // cell toward g_max: G += (g_max - G(t_s)) (1 - exp(-rate dose)) (1 + sigma z), z from
  // the cell's stream, G kept <= g_max, relaxation untouched; stuck cells do not move.
  // Returns the change, uS.
  double read_disturb(std::size_t i, double dose, double t_s);
  // Number of stuck cells.
  [[nodiscard]] std::size_t stuck_count() const;
  // Bytes of per-cell state this array holds (every per-cell field below, its random
  // stream included); state_bytes() / size() is the model's bytes per device, and
  // bytes_per_cell() the same figure from the layout alone (memory estimates).
  [[nodiscard]] std::size_t state_bytes() const;
  [[nodiscard]] static constexpr std::size_t bytes_per_cell() {
    return sizeof(float) * 2 + sizeof(double) + sizeof(std::uint32_t) + sizeof(Stuck) + sizeof(Rng);
  }
  // Checkpoint: every per-cell field (conductances, relaxation offsets and last-write
  // times, pulse counts, stuck flags, random streams; the d2d parameters and budgets
  // follow from the seed).
  void state_io(StateIO& io);

 private:
  // A cell's device-to-device parameters and endurance budget, and whether (and how)
  // it is stuck from fabrication. They are drawn from the cell's own d2d stream, a
  // pure function of the array's seed and the cell index, so they are not stored: they
  // are drawn again where a pulse needs them: 16 bytes per cell less, bit-identical; a
  // whole pulse, this draw included, takes about 0.1 us (tb/bench/bench_tile
  // BM_DevicePulse), so the default run's ~4.8 M pulses spend under 0.5 s in it.
  struct D2d {
    float gain{1.0F};     // SET gain (relative, mean 1)
    float dvth{0.0F};     // transistor V_th offset, V
    float dvreset{0.0F};  // RESET threshold offset, V
    std::uint32_t budget{0};
    Stuck stuck{Stuck::none};
  };
  [[nodiscard]] D2d d2d(std::size_t i) const;
  void after_pulse(std::size_t i, double g_new, double t_s);
  void wear_out(std::size_t i, double t_s);
  // Counts a pulse on device i; false if it has no effect on the state: the device is
  // stuck, or this pulse exceeds its endurance budget (and wears it out).
  bool pulse_lands(std::size_t i, std::uint32_t budget, double t_s);

  DeviceParams p_;
  std::size_t n_{0};
  std::uint64_t seed_{0};
  double inv_log_sat_{0};  // 1 / log(1 + t_sat / t0)
  // Structure of arrays, one entry per cell.
  std::vector<float> g_prog_;    // programmed conductance, uS
  std::vector<float> relax_;     // full relaxation offset, uS
  std::vector<double> t_write_;  // time of the last write, s
  std::vector<std::uint32_t> pulses_;
  std::vector<Stuck> stuck_;
  std::vector<Rng> rng_;  // per-cell stream: pulses, relaxation, reads, wear
};

}  // namespace memplast::device
