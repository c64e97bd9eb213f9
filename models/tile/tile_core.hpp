// Crossbar tile core (plain C++, no SystemC): an R x C array of signed weights held as
// conductances in DeviceArrays, with row DACs, column ADCs shared through a mux, read
// noise aggregated per output, and the latency/energy of every operation.
//
// Orientation: the array has R rows (word lines, driven by the row DACs) and C columns
// (bit lines, sensed by the column ADCs). Weight W[r][c] sits at row r, column c.
//   forward   MVM: x has R entries (rows driven), y = W^T x has C entries (columns sensed)
//   transpose MVM: x has C entries (columns driven), y = W x has R entries (rows sensed)
// Batches are column-major: vector v of a batch occupies X[v*n .. v*n+n).
// Outputs are in weight units (the conductance range is divided out digitally); the raw
// signed ADC codes of the last call are available from last_codes().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "common/histogram.hpp"
#include "common/isa.hpp"
#include "common/state_io.hpp"
#include "device/device.hpp"
#include "tile/tile_params.hpp"

namespace memplast::tile {

enum class Mapping : std::uint8_t { differential, reference_column };
enum class Encoding : std::uint8_t { amplitude, bit_serial };
enum class Direction : std::uint8_t { forward, transpose };
enum class Side : std::uint8_t { pos, neg, ref };  // which DeviceArray of a weight

// Energy phases charged by tile operations (ledger phase names: phase_name()).
enum class Phase : std::uint8_t { dac, row, array, adc, digital, pulse, count };
constexpr std::size_t kPhases = static_cast<std::size_t>(Phase::count);
const char* phase_name(Phase p);

struct OpCost {
  double latency_s{0};
  std::array<double, kPhases> energy_J{};
  std::uint64_t conversions{0};  // ADC conversions
  [[nodiscard]] double energy_total_J() const;
  OpCost& operator+=(const OpCost& o);
};

Mapping parse_mapping(const std::string& s);    // throws cfg::ConfigError naming tile.mapping
Encoding parse_encoding(const std::string& s);  // throws cfg::ConfigError naming tile.encoding

// Level targets and weight unit of a tile with parameters `p`, without an array: what
// TileCore::target_conductances / weight_unit_uS return (a controller such as pv_ctrl
// computes its targets from the parameters; it holds no device of its own).
// level_targets_uS throws std::out_of_range for a level outside [0, tile.levels).
std::pair<double, double> level_targets_uS(const TileParams& p, int level);
double weight_unit_uS(const TileParams& p);
// Target conductance (uS) of a reference-column cell (tile.mapping = reference_column):
// g_ref = (g_on + g_off) / 2.
double reference_uS(const TileParams& p);

class TileCore {
 public:
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  // `name` names the random streams ("<name>.pos", "<name>.neg", "<name>.ref" for the
  // devices, "<name>.read_noise" for the output noise) under `global_seed`.
  TileCore(const TileParams& p, const device::DeviceParams& dp, std::uint64_t global_seed,
           std::string name);

  [[nodiscard]] int rows() const { return rows_; }
  [[nodiscard]] int cols() const { return cols_; }
  [[nodiscard]] const TileParams& params() const { return p_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] Mapping mapping() const { return mapping_; }

  // --- weight levels and conductance targets -------------------------------------
  [[nodiscard]] int levels() const { return static_cast<int>(p_.levels); }
  // Value of level k in [-1, 1]: -1 + 2k/(L-1).
  [[nodiscard]] double level_value(int level) const;
  // Conductance targets (uS) of level k. Differential: G+ = g_off + max(w,0)(g_on-g_off),
  // G- = g_off + max(-w,0)(g_on-g_off). Reference column: G = g_ref + w (g_on-g_off)/2
  // with g_ref = (g_on+g_off)/2 (second member is g_ref).
  [[nodiscard]] std::pair<double, double> target_conductances(int level) const;
  // Conductance difference (uS) that represents weight 1.
  [[nodiscard]] double weight_unit_uS() const;
  // Ideal write of weight (row, col) to level k at time t_s (DeviceArray::force).
  void program_ideal(int row, int col, int level, double t_s);
  // Ideal write of every weight, levels row-major R x C, and of the reference column
  // (program_reference_ideal).
  void program_ideal_all(const int* levels_rc, double t_s);
  // Ideal write of every reference-column cell to reference_uS() (reference mapping;
  // nothing otherwise). The reference cells start as fabricated (the device model's
  // g_min) until they are programmed: by program-and-verify like every weight device
  // (pv::plan_reference_write), or ideally here (tests, ideal set-ups).
  void program_reference_ideal(double t_s);

  // --- device access (program-and-verify) -----------------------------------------
  // Index of the device of weight (row, col) in the arrays: row * C + col, or, for a
  // column remapped to spare column s (remap_column), R * C + row * S + s (the S =
  // tile.spare_cols spare columns follow the weight columns in the arrays).
  [[nodiscard]] std::size_t cell_index(int row, int col) const {
    if (spare_ > 0) {
      const int s = col_slot_[static_cast<std::size_t>(col)];
      if (s >= 0) {
        return n_weights_ + static_cast<std::size_t>(row) * static_cast<std::size_t>(spare_) +
               static_cast<std::size_t>(s);
      }
    }
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(cols_) +
           static_cast<std::size_t>(col);
  }
  // --- column repair (tile.spare_cols) -------------------------------------------------
  [[nodiscard]] int spare_cols() const { return spare_; }
  // Weight column `col` served by spare column `spare` from now on (enable), or by its
  // own column again (!enable). Throws std::out_of_range for a column or spare out of
  // range, std::invalid_argument for a spare that serves another column.
  void remap_column(int col, int spare, bool enable);
  // The spare column serving weight column `col`, or -1.
  [[nodiscard]] int remapped_to(int col) const {
    return spare_ > 0 ? col_slot_.at(static_cast<std::size_t>(col)) : -1;
  }
  // Stuck cells of device.stuck_cells for this tile that have not struck yet (their time
  // is later than the tile's last device access); applied at the next access.
  [[nodiscard]] std::size_t pending_stuck() const { return stuck_events_.size() - stuck_next_; }
  // The arrays themselves. Whoever writes a cell through them directly must call
  // mark_written(row, col) (a reference cell: mark_reference_written()) so the cached
  // weight matrix sees the change; the
  // pulse_*() helpers below do that and return the operation's cost.
  device::DeviceArray& array(Side s);
  [[nodiscard]] const device::DeviceArray& array(Side s) const;
  // Memory of the model's state (summary.json state_bytes): the device arrays' per-cell
  // state (DeviceArray::state_bytes), the devices they hold, and the tile's own caches
  // and work buffers (weights, variances, conductance copies, ADC trims, buffers).
  [[nodiscard]] std::size_t device_state_bytes() const;
  [[nodiscard]] std::size_t device_count() const;
  [[nodiscard]] std::size_t cache_bytes() const;
  void mark_written(int row, int col);
  // The same for the reference column (reference mapping): its cached conductances are
  // recomputed at the next MVM.
  void mark_reference_written() { ref_dirty_ = true; }
  void invalidate_all();
  OpCost pulse_set(int row, int col, Side s, double v_gate_V, double t_s);
  OpCost pulse_reset(int row, int col, Side s, double v_reset_V, double t_s);
  // Verify read of one device (with read noise), uS; cost in *cost if non-null.
  double verify_read(int row, int col, Side s, double t_s, OpCost* cost = nullptr);

  // --- MVM ----------------------------------------------------------------------------
  // Y = W^T X (forward) or W X (transpose) for `batch` vectors at simulated time t_s.
  // Inputs in [0, 1] (clipped); with signed_inputs, in [-1, 1] evaluated in two phases
  // (positive part, then negative part, subtracted digitally). Returns the cost.
  OpCost mvm_batch(Direction dir, const float* X, int batch, float* Y, double t_s, Encoding enc,
                   bool signed_inputs);
  OpCost forward_batch(const float* X, int batch, float* Y, double t_s,
                       bool signed_inputs = false) {
    return mvm_batch(Direction::forward, X, batch, Y, t_s, encoding_, signed_inputs);
  }
  OpCost transpose_batch(const float* X, int batch, float* Y, double t_s,
                         bool signed_inputs = true) {
    return mvm_batch(Direction::transpose, X, batch, Y, t_s, encoding_, signed_inputs);
  }
  // Latency and energy of an MVM of `batch` vectors without running it.
  [[nodiscard]] OpCost mvm_cost(Direction dir, int batch, Encoding enc, bool signed_inputs) const;
  [[nodiscard]] OpCost verify_cost() const;
  [[nodiscard]] OpCost pulse_cost() const;

  // Raw signed ADC codes of the last mvm_batch: one per output, per pulse (bit-serial),
  // per phase, per vector: index ((v*phases + ph)*pulses + b)*n_out + j.
  [[nodiscard]] const std::vector<std::int32_t>& last_codes() const { return codes_; }

  // Conversions of the last mvm_batch whose code is at a limit of the code range (the
  // tile's saturation detector, ADC_SAT_COUNT): out-of-range signals, or the injected
  // fault below. 0 with tile.ideal_converters (no ADC).
  [[nodiscard]] std::uint64_t last_saturated() const { return sat_last_; }
  // Fault injection (faults.adc_sat_*): in the next mvm_batch, ADC floor(u x ADCs of its
  // direction) (u in [0, 1); lines j with j / tile.cols_per_adc equal to it) saturates:
  // each of its conversions gives the code limit of its code's sign.
  void inject_adc_saturation(double u) { sat_inject_u_ = u; }

  // Histogram of the ADC input in direction dir, in code units (the signal over the
  // code step, before rounding and clipping to the code range), of the first vector of
  // every MVM batch since construction (a sample: one vector per batch keeps the cost
  // off the hot path). Range +-2 x 2^(adc_bits-1) codes; beyond it, the flow bins.
  // Empty with tile.ideal_converters (no ADC).
  [[nodiscard]] const ValueHistogram& adc_input_histogram(Direction dir) const {
    return adc_in_[dir == Direction::forward ? 0 : 1];
  }

  // ADC full scale (weight units) of the outputs in direction dir: the largest
  // possible signal (all inputs 1, all weights +1: R for forward, C for transpose)
  // times tile.adc_range_fraction. Code step: full_scale / 2^(adc_bits-1).
  [[nodiscard]] double adc_full_scale(Direction dir) const;
  [[nodiscard]] double adc_step(Direction dir) const;
  // Override the calibration (weight units), e.g. from the programmed weights.
  void set_adc_full_scale(Direction dir, double fs);
  // Calibrate from the programmed weights: fs = fraction x the largest column (row)
  // sum of |W| (the largest signal any input in [0,1] can produce), at time t_s.
  void calibrate_adc_from_weights(double t_s);

  // ADC offset/gain trim (docs/tile.md "ADC offset and gain trim"): with
  // tile.adc_offset_sigma_lsb or tile.adc_gain_sigma > 0 every sensed line's converter
  // has its own offset and gain (drawn at construction from "<name>.adc_mismatch"). The
  // trim feeds tile.adc_trim_points reference inputs to every line of both directions,
  // fits offset and gain from the codes (least squares) and sets the line's trim; returns
  // its cost. Without mismatch it costs the same and changes nothing.
  OpCost calibrate_adc_trim();
  [[nodiscard]] OpCost adc_trim_cost() const;
  // Largest |code - ideal code| over the reference inputs of every line of both
  // directions with the current trim (code units; the check a firmware would run).
  [[nodiscard]] double adc_trim_residual_lsb() const;

  // ADC input-range profiling (tile.adc_range; docs/tile.md "ADC input-range profiling";
  // tile_adc.cpp). The profiling step of direction dir is the code step of the widest
  // range, adc_max_signal(dir) / 2^(adc_bits-1) weight units, with adc_max_signal R
  // forward, C transpose (all inputs 1, all weights +1).
  [[nodiscard]] double adc_max_signal(Direction dir) const;
  [[nodiscard]] double adc_profile_step(Direction dir) const;
  // Full scale = steps x adc_profile_step, steps in 1 .. 2^(adc_bits-1); 0 restores the
  // configured default (tile.adc_range_fraction). Throws std::out_of_range beyond.
  void set_adc_range_steps(Direction dir, int steps);
  [[nodiscard]] int adc_range_steps(Direction dir) const {
    return adc_range_steps_[dir_index(dir)];
  }
  // A profiling read: mvm_batch of the `batch` vectors of X with the ADC at its widest
  // range (full scale adc_max_signal), outputs discarded, the full scale restored; the
  // magnitudes of its codes replace adc_profile(dir) (element k: codes of magnitude k,
  // 2^(adc_bits-1)+1 elements). Returns the MVM's cost (mvm_cost).
  OpCost profile_batch(Direction dir, const float* X, int batch, double t_s, Encoding enc,
                       bool signed_inputs);
  [[nodiscard]] const std::vector<std::uint32_t>& adc_profile(Direction dir) const {
    return adc_profile_[dir_index(dir)];
  }

  // Read disturb (device.read_disturb_rate > 0; docs/device.md, tile_disturb.cpp): every
  // MVM adds each driven line's dose, sum over its reads of exp((|d| v_read - v_ref) /
  // v_accel) (d the drive, 0 reads nothing); a cell's dose is its row's forward dose
  // plus its column's transpose dose. The doses are applied to the devices
  // (DeviceArray::read_disturb) at every full cache rebuild and by this call, then
  // cleared. Returns the mean |change| of the devices, uS.
  double apply_read_disturb(double t_s);
  [[nodiscard]] double read_dose(Direction dir, int line) const;
  // Sum of the devices' conductance changes by read disturb since construction, uS.
  [[nodiscard]] double read_disturb_total_uS() const { return disturb_total_uS_; }

  // Cached effective weights (weight units, R x C) and per-weight read-noise variance
  // (weight units^2), refreshed as documented in docs/tile.md.
  const RowMatrix& weights(double t_s);
  const RowMatrix& noise_variance(double t_s);
  [[nodiscard]] Encoding encoding() const { return encoding_; }
  // Whether the MVM products skip the driven lines past the last non-zero drive (on by
  // default; results are bit-identical either way: the switch is for tests and benchmarks).
  void set_trim_inputs(bool on) { trim_inputs_ = on; }
  [[nodiscard]] std::uint64_t full_refreshes() const { return full_refreshes_; }
  // Effective weights (weight units, R x C) the MVM in direction dir uses: the cached
  // weights, or with tile.ir_drop on, the weights seen through the wires' IR drop
  // (docs/tile.md "IR drop"), recomputed when the conductances changed.
  const RowMatrix& effective_weights(Direction dir, double t_s);
  // IR-drop recomputations of the effective weights since construction.
  [[nodiscard]] std::uint64_t ir_updates() const { return ir_updates_; }
  // I-V nonlinearity (device.nl_*; docs/tile.md "I-V nonlinearity"): whether it is on,
  // and its per-weight terms in weight units: a read of drives x (in [0, 1] of v_read)
  // senses sum W x + B x^2 + C x^3 per output, B = quadratic(dir), C = cubic(). With
  // bit-serial encoding every pulse is at v_read, so the MVM uses W + B + C (a per-cell
  // gain). Zero matrices when off.
  [[nodiscard]] bool iv_nonlinear() const { return nl_on_; }
  const RowMatrix& iv_quadratic(Direction dir, double t_s);
  const RowMatrix& iv_cubic(double t_s);
  // Checkpoint: the devices, the read-noise stream, the cached weights and their
  // refresh state, the ADC calibration.
  void state_io(StateIO& io);

 private:
  // One SET or RESET pulse on cell (row, col) of side s at t_s: apply(array, index), then
  // the written cell's cached state (or the reference column's) is marked stale.
  template <class Apply>
  OpCost pulse(int row, int col, Side s, double t_s, Apply&& apply);
  static std::size_t dir_index(Direction dir) { return dir == Direction::forward ? 0U : 1U; }
  // Constructor parts (tile_core.cpp).
  void init_ir_drop();
  void init_adc(std::uint64_t global_seed);
  void load_stuck_cells(const device::DeviceParams& dp);
  void refresh(double t_s);
  void accumulate_read_dose(Direction dir, int reads);  // from the drive matrix xin_
  [[nodiscard]] bool read_disturb_on() const { return pos_->params().read_disturb_rate > 0; }
  // Applies the device.stuck_cells entries whose time is <= t_s.
  void apply_stuck_events(double t_s) {
    if (stuck_next_ < stuck_events_.size()) apply_stuck_events_slow(t_s);
  }
  void apply_stuck_events_slow(double t_s);
  // w_, s2_ of the remapped columns from their spare devices (after a full refresh);
  // returns the change of the conductance sum.
  double refresh_remapped(double t_s);
  void refresh_cell(std::size_t i, double t_s);
  void update_ir();
  // I-V nonlinearity (tile_iv.cpp).
  void init_iv();
  void iv_cell(Eigen::Index r, Eigen::Index c);  // B, C of weight (r, c) from g_pos_, g_neg_
  void iv_all();
  // The bit-serial pulse weights W + B + C of direction dir (after effective_weights).
  const RowMatrix& iv_pulse_weights(Direction dir, double t_s);
  // Adds the B x^2 + C x^3 terms of the first n_act driven lines of xin_ to acc_.
  void add_iv_terms(bool fwd, int n_act);
  [[nodiscard]] int n_adcs(Direction dir) const;
  // Driven lines the products of the K reads in xin_ use (see mvm_batch).
  [[nodiscard]] int active_inputs(int K) const;
  bool trim_inputs_{true};

  TileParams p_;
  std::string name_;
  int rows_;
  int cols_;
  int spare_{0};               // tile.spare_cols
  std::size_t n_weights_{0};   // rows_ * cols_
  std::vector<int> col_slot_;  // weight column -> spare column serving it, or -1
  std::vector<int> slot_col_;  // spare column -> weight column it serves, or -1
  struct StuckEvent {
    double t_s{0};
    std::size_t cell{0};
    bool neg{false};
    device::Stuck kind{device::Stuck::none};
  };
  std::vector<StuckEvent> stuck_events_;  // by time
  std::size_t stuck_next_{0};             // first not applied yet
  Mapping mapping_;
  Encoding encoding_;
  std::unique_ptr<device::DeviceArray> pos_;
  std::unique_ptr<device::DeviceArray> neg_;  // differential only
  std::unique_ptr<device::DeviceArray> ref_;  // reference column only: R cells
  memplast::Rng noise_rng_;
  Isa gemm_isa_{Isa::generic};  // build of the MVM products (MEMPLAST_TILE_ISA, tile_gemm.hpp)

  RowMatrix w_;             // weight units
  RowMatrix s2_;            // weight units^2
  Eigen::VectorXf w_ref_;   // reference column (weight units, relative to g_ref), R
  Eigen::VectorXf s2_ref_;  // its variance
  double t_cache_{0};
  bool cache_valid_{false};
  std::vector<std::size_t> dirty_;
  std::vector<std::uint8_t> dirty_flag_;
  bool ref_dirty_{false};
  double g_sum_uS_{0};  // sum of all cell conductances (array read energy)
  std::uint64_t full_refreshes_{0};
  std::array<double, 2> adc_fs_{};
  std::array<ValueHistogram, 2> adc_in_;  // forward, transpose (adc_input_histogram)
  std::array<int, 2> adc_range_steps_{};  // ADC_RANGE_* (0: default)
  std::array<std::vector<std::uint32_t>, 2> adc_profile_;  // last profiling read's |codes|
  std::vector<float> profile_y_;                           // its discarded outputs
  std::array<std::vector<double>, 2> dose_;                // read-disturb dose per row / per column
  double disturb_total_uS_{0};

  // ADC mismatch (per sensed line, forward then transpose): code = round(a u + b) with u
  // the ideal input in code units; a = gain/trim_gain, b = (offset - trim_offset)/trim_gain.
  bool adc_mismatch_{false};
  std::array<std::vector<float>, 2> adc_gain_;
  std::array<std::vector<float>, 2> adc_offset_;
  std::array<std::vector<float>, 2> adc_a_;
  std::array<std::vector<float>, 2> adc_b_;
  [[nodiscard]] float raw_code(int d, int j, double u, float trim_gain, float trim_off) const;

  // IR drop (tile.ir_drop != off): the cached conductances of the pair (uS) and the
  // effective weights of both directions derived from them.
  enum class IrMode : std::uint8_t { off, approx, exact };
  IrMode ir_mode_{IrMode::off};
  RowMatrix g_pos_;
  RowMatrix g_neg_;
  RowMatrix w_ir_fwd_;
  RowMatrix w_ir_tr_;
  bool ir_valid_{false};
  std::uint64_t ir_updates_{0};
  // IR-drop compensation (tile.ir_compensation): per physical column (forward) and per
  // row (transpose) sense gains, re-measured at the first MVM after a weight write.
  std::vector<float> ir_gain_fwd_;
  std::vector<float> ir_gain_tr_;
  bool ir_comp_pending_{false};
  [[nodiscard]] OpCost ir_compensation_cost() const;
  [[nodiscard]] OpCost mvm_cost_base(Direction dir, int batch, Encoding enc,
                                     bool signed_inputs) const;

  // I-V nonlinearity (device.nl_* not 0): uses g_pos_, g_neg_ (kept as with IR drop).
  bool nl_on_{false};
  bool nl_quad_{false};                // device.nl_a2_per_V != 0
  bool nl_cubic_{false};               // device.nl_a3_per_V2 != 0
  std::array<RowMatrix, 2> nl_b_;      // quadratic terms, forward / transpose
  RowMatrix nl_c_;                     // cubic terms (both directions)
  std::array<RowMatrix, 2> nl_pulse_;  // bit-serial pulse weights W + B + C
  std::array<bool, 2> nl_pulse_valid_{};
  Eigen::MatrixXf nl_x_;  // work buffer: x^2, x^3
  [[nodiscard]] bool keep_conductances() const { return ir_mode_ != IrMode::off || nl_on_; }

  std::uint64_t sat_last_{0};  // last_saturated()
  double sat_inject_u_{-1.0};  // inject_adc_saturation(), < 0: none armed
  // After the conversions of mvm_batch: apply an armed saturation, count sat_last_.
  void finish_conversions(Direction dir, int batch, int phases, int pulses, float* Y);

  // Work buffers.
  Eigen::MatrixXf xin_;
  Eigen::MatrixXf acc_;
  Eigen::MatrixXf var_;
  std::vector<std::int32_t> codes_;
  std::vector<float> noise_buf_;
};

}  // namespace memplast::tile
