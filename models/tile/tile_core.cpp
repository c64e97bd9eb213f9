#include "tile/tile_core.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "tile/normal.hpp"
#include "tile/tile_gemm.hpp"

namespace memplast::tile {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::dac: return "dac";
    case Phase::row: return "row";
    case Phase::array: return "array";
    case Phase::adc: return "adc";
    case Phase::digital: return "digital";
    case Phase::pulse: return "pulse";
    case Phase::count: break;
  }
  return "?";
}

double OpCost::energy_total_J() const {
  double e = 0;
  for (double v : energy_J) e += v;
  return e;
}

OpCost& OpCost::operator+=(const OpCost& o) {
  latency_s += o.latency_s;
  for (std::size_t i = 0; i < kPhases; ++i) energy_J[i] += o.energy_J[i];
  conversions += o.conversions;
  return *this;
}

Mapping parse_mapping(const std::string& s) {
  if (s == "differential") return Mapping::differential;
  if (s == "reference_column") return Mapping::reference_column;
  throw cfg::ConfigError(fmt::format("key 'tile.mapping': unknown mapping '{}'", s));
}

Encoding parse_encoding(const std::string& s) {
  if (s == "amplitude") return Encoding::amplitude;
  if (s == "bit_serial") return Encoding::bit_serial;
  throw cfg::ConfigError(fmt::format("key 'tile.encoding': unknown encoding '{}'", s));
}

// ---------------------------------------------------------------------------------------

TileCore::TileCore(const TileParams& p, const device::DeviceParams& dp, std::uint64_t global_seed,
                   std::string name)
    : p_(p),
      name_(std::move(name)),
      rows_(static_cast<int>(p.rows)),
      cols_(static_cast<int>(p.cols)),
      mapping_(parse_mapping(p.mapping)),
      encoding_(parse_encoding(p.encoding)),
      noise_rng_(global_seed, name_ + ".read_noise") {
  if (p_.g_on_uS <= p_.g_off_uS) {
    throw cfg::ConfigError(fmt::format("{}: 'tile.g_on_uS' must exceed 'tile.g_off_uS'", name_));
  }
  if (p_.levels < 2) throw cfg::ConfigError(fmt::format("{}: 'tile.levels' must be >= 2", name_));
  const std::size_t n = static_cast<std::size_t>(rows_) * static_cast<std::size_t>(cols_);
  n_weights_ = n;
  spare_ = static_cast<int>(p_.spare_cols);
  col_slot_.assign(static_cast<std::size_t>(cols_), -1);
  slot_col_.assign(static_cast<std::size_t>(spare_), -1);
  // The spare columns' devices follow the weight columns' (cell_index).
  const std::size_t n_dev = n + static_cast<std::size_t>(rows_) * static_cast<std::size_t>(spare_);
  pos_ = std::make_unique<device::DeviceArray>(dp, n_dev, derive_seed(global_seed, name_ + ".pos"));
  if (mapping_ == Mapping::differential) {
    neg_ =
        std::make_unique<device::DeviceArray>(dp, n_dev, derive_seed(global_seed, name_ + ".neg"));
  } else {
    ref_ = std::make_unique<device::DeviceArray>(dp, static_cast<std::size_t>(rows_),
                                                 derive_seed(global_seed, name_ + ".ref"));
  }
  w_.resize(rows_, cols_);
  s2_.resize(rows_, cols_);
  // The best build of the MVM products the CPU runs (generic off x86-64, where
  // select_isa accepts nothing else); MEMPLAST_TILE_ISA or MEMPLAST_ISA forces one.
  gemm_isa_ = select_isa("MEMPLAST_TILE_ISA");
  w_ref_ = Eigen::VectorXf::Zero(rows_);
  s2_ref_ = Eigen::VectorXf::Zero(rows_);
  dirty_flag_.assign(n, 0);
  {
    const double half = std::ldexp(1.0, static_cast<int>(p_.adc_bits) - 1);
    const auto bins = static_cast<unsigned>(std::min(4.0 * half, 1024.0));
    for (auto& h : adc_in_) h = value_histogram(bins, -2 * half, 2 * half);
  }
  adc_fs_[0] = p_.adc_range_fraction * rows_;
  adc_fs_[1] = p_.adc_range_fraction * cols_;
  // Defined initial state: every weight at the level nearest 0, every reference at g_ref.
  const int zero_level = static_cast<int>((p_.levels - 1) / 2);
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) program_ideal(r, c, zero_level, 0.0);
  }
  if (spare_ > 0) {  // the spare devices hold the zero level too
    const auto [gp, gn] = target_conductances(zero_level);
    for (std::size_t i = n; i < n_dev; ++i) {
      pos_->force(i, gp, 0.0);
      if (neg_) neg_->force(i, gn, 0.0);
    }
  }
  if (!dp.ideal) {
    // device.stuck_cells: this tile's entries (a tile is named "layer<l>_t<k>", possibly
    // under a hierarchical prefix "<parent>.").
    const auto dot = name_.rfind('.');
    const std::string base = dot == std::string::npos ? name_ : name_.substr(dot + 1);
    for (const auto& e : device::parse_stuck_cells(dp.stuck_cells)) {
      if (e.tile != name_ && e.tile != base) continue;
      if (e.row >= rows_ || e.col >= cols_ + spare_) {
        throw cfg::ConfigError(fmt::format(
            "key 'device.stuck_cells': {}: cell ({}, {}) outside the {} rows x {} columns ({} "
            "weight + {} spare)",
            name_, e.row, e.col, rows_, cols_ + spare_, cols_, spare_));
      }
      if (e.neg && !neg_) {
        throw cfg::ConfigError(fmt::format(
            "key 'device.stuck_cells': {}: side 'neg' needs tile.mapping = differential", name_));
      }
      const std::size_t cell =
          e.col < cols_ ? static_cast<std::size_t>(e.row) * static_cast<std::size_t>(cols_) +
                              static_cast<std::size_t>(e.col)
                        : n + static_cast<std::size_t>(e.row) * static_cast<std::size_t>(spare_) +
                              static_cast<std::size_t>(e.col - cols_);
      stuck_events_.push_back(
          {e.t_s, cell, e.neg, e.lrs ? device::Stuck::at_lrs : device::Stuck::at_hrs});
    }
    std::stable_sort(stuck_events_.begin(), stuck_events_.end(),
                     [](const StuckEvent& a, const StuckEvent& b) { return a.t_s < b.t_s; });
    apply_stuck_events(0.0);
  }
  if (ref_) {
    for (int r = 0; r < rows_; ++r)
      ref_->force(static_cast<std::size_t>(r), 0.5 * (p_.g_on_uS + p_.g_off_uS), 0.0);
  }
  refresh(0.0);
}

double TileCore::level_value(int level) const {
  if (level < 0 || level >= levels()) {
    throw std::out_of_range(fmt::format("{}: level {} outside [0, {})", name_, level, levels()));
  }
  return -1.0 + 2.0 * level / static_cast<double>(levels() - 1);
}

double weight_unit_uS(const TileParams& p) {
  const double span = p.g_on_uS - p.g_off_uS;
  return parse_mapping(p.mapping) == Mapping::differential ? span : 0.5 * span;
}

std::pair<double, double> level_targets_uS(const TileParams& p, int level) {
  if (level < 0 || level >= p.levels) {
    throw std::out_of_range(fmt::format("level {} outside [0, {}) (tile.levels)", level, p.levels));
  }
  const double w = -1.0 + 2.0 * level / static_cast<double>(p.levels - 1);
  const double span = p.g_on_uS - p.g_off_uS;
  if (parse_mapping(p.mapping) == Mapping::differential) {
    return {p.g_off_uS + std::max(w, 0.0) * span, p.g_off_uS + std::max(-w, 0.0) * span};
  }
  const double g_ref = 0.5 * (p.g_on_uS + p.g_off_uS);
  return {g_ref + w * 0.5 * span, g_ref};
}

double TileCore::weight_unit_uS() const { return tile::weight_unit_uS(p_); }

std::pair<double, double> TileCore::target_conductances(int level) const {
  (void)level_value(level);  // range check naming the tile
  return level_targets_uS(p_, level);
}

device::DeviceArray& TileCore::array(Side s) {
  device::DeviceArray* a = s == Side::pos ? pos_.get() : s == Side::neg ? neg_.get() : ref_.get();
  if (a == nullptr)
    throw std::invalid_argument(fmt::format("{}: no such device array in this mapping", name_));
  return *a;
}

const device::DeviceArray& TileCore::array(Side s) const {
  const device::DeviceArray* a = s == Side::pos   ? pos_.get()
                                 : s == Side::neg ? neg_.get()
                                                  : ref_.get();
  if (a == nullptr)
    throw std::invalid_argument(fmt::format("{}: no such device array in this mapping", name_));
  return *a;
}

void TileCore::mark_written(int row, int col) {
  // The cache's index (row-major weights), whichever device serves the weight.
  const std::size_t i = static_cast<std::size_t>(row) * static_cast<std::size_t>(cols_) +
                        static_cast<std::size_t>(col);
  if (dirty_flag_[i] == 0) {
    dirty_flag_[i] = 1;
    dirty_.push_back(i);
  }
}

void TileCore::invalidate_all() { cache_valid_ = false; }

void TileCore::program_ideal(int row, int col, int level, double t_s) {
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_) {
    throw std::out_of_range(
        fmt::format("{}: weight ({}, {}) outside {} x {}", name_, row, col, rows_, cols_));
  }
  const auto [gp, gn] = target_conductances(level);
  const std::size_t i = cell_index(row, col);
  pos_->force(i, gp, t_s);
  if (neg_) neg_->force(i, gn, t_s);
  mark_written(row, col);
}

void TileCore::program_ideal_all(const int* levels_rc, double t_s) {
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) {
      program_ideal(r, c,
                    levels_rc[static_cast<std::size_t>(r) * static_cast<std::size_t>(cols_) +
                              static_cast<std::size_t>(c)],
                    t_s);
    }
  }
  invalidate_all();
}

OpCost TileCore::pulse_set(int row, int col, Side s, double v_gate_V, double t_s) {
  apply_stuck_events(t_s);
  const std::size_t i = s == Side::ref ? static_cast<std::size_t>(row) : cell_index(row, col);
  array(s).set_pulse(i, v_gate_V, t_s);
  if (s == Side::ref)
    ref_dirty_ = true;
  else
    mark_written(row, col);
  return pulse_cost();
}

OpCost TileCore::pulse_reset(int row, int col, Side s, double v_reset_V, double t_s) {
  apply_stuck_events(t_s);
  const std::size_t i = s == Side::ref ? static_cast<std::size_t>(row) : cell_index(row, col);
  array(s).reset_pulse(i, v_reset_V, t_s);
  if (s == Side::ref)
    ref_dirty_ = true;
  else
    mark_written(row, col);
  return pulse_cost();
}

double TileCore::verify_read(int row, int col, Side s, double t_s, OpCost* cost) {
  apply_stuck_events(t_s);
  const std::size_t i = s == Side::ref ? static_cast<std::size_t>(row) : cell_index(row, col);
  if (cost != nullptr) *cost = verify_cost();
  return array(s).read(i, t_s);
}

// --- cache -------------------------------------------------------------------------------

void TileCore::refresh_cell(std::size_t k, double t_s) {
  const double unit = weight_unit_uS();
  const double inv2 = 1.0 / (unit * unit);
  const auto r = static_cast<Eigen::Index>(k / static_cast<std::size_t>(cols_));
  const auto c = static_cast<Eigen::Index>(k % static_cast<std::size_t>(cols_));
  const std::size_t i = cell_index(static_cast<int>(r), static_cast<int>(c));  // its device
  const double gp = pos_->conductance(i, t_s);
  const double sp = pos_->read_sigma(gp);
  if (neg_) {
    const double gn = neg_->conductance(i, t_s);
    const double sn = neg_->read_sigma(gn);
    w_(r, c) = static_cast<float>((gp - gn) / unit);
    s2_(r, c) = static_cast<float>((sp * sp + sn * sn) * inv2);
  } else {
    const double g_ref = 0.5 * (p_.g_on_uS + p_.g_off_uS);
    w_(r, c) = static_cast<float>((gp - g_ref) / unit);
    s2_(r, c) = static_cast<float>(sp * sp * inv2);
  }
}

void TileCore::apply_stuck_events_slow(double t_s) {
  while (stuck_next_ < stuck_events_.size() && stuck_events_[stuck_next_].t_s <= t_s) {
    const auto& e = stuck_events_[stuck_next_++];
    (e.neg ? *neg_ : *pos_).make_stuck(e.cell, e.kind, e.t_s);
    // The weight it serves (if any) sees the change.
    if (e.cell < n_weights_) {
      const auto r = static_cast<int>(e.cell / static_cast<std::size_t>(cols_));
      const auto c = static_cast<int>(e.cell % static_cast<std::size_t>(cols_));
      if (col_slot_[static_cast<std::size_t>(c)] < 0) mark_written(r, c);
    } else {
      const std::size_t k = e.cell - n_weights_;
      const auto r = static_cast<int>(k / static_cast<std::size_t>(spare_));
      const int c = slot_col_[k % static_cast<std::size_t>(spare_)];
      if (c >= 0) mark_written(r, c);
    }
  }
}

void TileCore::remap_column(int col, int spare, bool enable) {
  if (col < 0 || col >= cols_) {
    throw std::out_of_range(
        fmt::format("{}: remap of column {} outside the {} weight columns", name_, col, cols_));
  }
  auto& cur = col_slot_[static_cast<std::size_t>(col)];
  if (!enable) {
    if (cur >= 0) slot_col_[static_cast<std::size_t>(cur)] = -1;
    cur = -1;
  } else {
    if (spare < 0 || spare >= spare_) {
      throw std::out_of_range(
          fmt::format("{}: spare column {} outside the {} spare columns", name_, spare, spare_));
    }
    auto& owner = slot_col_[static_cast<std::size_t>(spare)];
    if (owner >= 0 && owner != col) {
      throw std::invalid_argument(
          fmt::format("{}: spare column {} already serves column {}", name_, spare, owner));
    }
    if (cur >= 0) slot_col_[static_cast<std::size_t>(cur)] = -1;
    cur = spare;
    owner = col;
  }
  for (int r = 0; r < rows_; ++r) mark_written(r, col);
  cache_valid_ = false;  // the next MVM refreshes every weight (and the conductance sum)
}

double TileCore::refresh_remapped(double t_s) {
  double d = 0;
  for (int c = 0; c < cols_; ++c) {
    if (col_slot_[static_cast<std::size_t>(c)] < 0) continue;
    for (int r = 0; r < rows_; ++r) {
      const std::size_t own = static_cast<std::size_t>(r) * static_cast<std::size_t>(cols_) +
                              static_cast<std::size_t>(c);
      const std::size_t dev = cell_index(r, c);
      d += pos_->conductance(dev, t_s) - pos_->conductance(own, t_s);
      if (neg_) d += neg_->conductance(dev, t_s) - neg_->conductance(own, t_s);
      refresh_cell(own, t_s);
    }
  }
  return d;
}

void TileCore::refresh(double t_s) {
  apply_stuck_events(t_s);
  const std::size_t n = static_cast<std::size_t>(rows_) * static_cast<std::size_t>(cols_);
  const bool stale =
      !cache_valid_ || std::abs(t_s - t_cache_) > p_.relax_refresh_s || dirty_.size() > n / 8;
  if (stale) {
    const double unit = weight_unit_uS();
    const double inv = 1.0 / unit;
    const double inv2 = inv * inv;
    std::vector<float> gp(pos_->size());  // spare devices after the n weight devices
    pos_->conductances(t_s, gp.data());
    double gsum = 0;
    if (neg_) {
      std::vector<float> gn(neg_->size());
      neg_->conductances(t_s, gn.data());
      for (std::size_t i = 0; i < n; ++i) {
        const auto r = static_cast<Eigen::Index>(i / static_cast<std::size_t>(cols_));
        const auto c = static_cast<Eigen::Index>(i % static_cast<std::size_t>(cols_));
        const double sp = pos_->read_sigma(gp[i]);
        const double sn = neg_->read_sigma(gn[i]);
        w_(r, c) =
            static_cast<float>((static_cast<double>(gp[i]) - static_cast<double>(gn[i])) * inv);
        s2_(r, c) = static_cast<float>((sp * sp + sn * sn) * inv2);
        gsum += static_cast<double>(gp[i]) + static_cast<double>(gn[i]);
      }
    } else {
      const double g_ref = 0.5 * (p_.g_on_uS + p_.g_off_uS);
      for (std::size_t i = 0; i < n; ++i) {
        const auto r = static_cast<Eigen::Index>(i / static_cast<std::size_t>(cols_));
        const auto c = static_cast<Eigen::Index>(i % static_cast<std::size_t>(cols_));
        const double sp = pos_->read_sigma(gp[i]);
        w_(r, c) = static_cast<float>((static_cast<double>(gp[i]) - g_ref) * inv);
        s2_(r, c) = static_cast<float>(sp * sp * inv2);
        gsum += static_cast<double>(gp[i]);
      }
      ref_dirty_ = true;
    }
    if (spare_ > 0) gsum += refresh_remapped(t_s);
    g_sum_uS_ = gsum;
    t_cache_ = t_s;
    cache_valid_ = true;
    ++full_refreshes_;
    for (std::size_t i : dirty_) dirty_flag_[i] = 0;
    dirty_.clear();
  } else if (!dirty_.empty()) {
    for (std::size_t i : dirty_) {
      refresh_cell(i, t_s);
      dirty_flag_[i] = 0;
    }
    dirty_.clear();
    // Array read energy uses the conductance sum; recompute it from the cache (cheap).
    const double unit = weight_unit_uS();
    if (neg_) {
      // G+ + G- = |G+ - G-| + 2 min(G+, G-); min approximated by g_off (exact for targets).
      g_sum_uS_ = static_cast<double>(w_.cwiseAbs().sum()) * unit +
                  2.0 * p_.g_off_uS * static_cast<double>(n);
    } else {
      g_sum_uS_ = static_cast<double>(w_.sum()) * unit +
                  0.5 * (p_.g_on_uS + p_.g_off_uS) * static_cast<double>(n);
    }
  }
  if (ref_ && ref_dirty_) {
    const double unit = weight_unit_uS();
    const double g_ref = 0.5 * (p_.g_on_uS + p_.g_off_uS);
    for (int r = 0; r < rows_; ++r) {
      const double g = ref_->conductance(static_cast<std::size_t>(r), t_s);
      const double s = ref_->read_sigma(g);
      w_ref_(r) = static_cast<float>((g - g_ref) / unit);
      s2_ref_(r) = static_cast<float>(s * s / (unit * unit));
    }
    ref_dirty_ = false;
  }
}

const TileCore::RowMatrix& TileCore::weights(double t_s) {
  refresh(t_s);
  return w_;
}

const TileCore::RowMatrix& TileCore::noise_variance(double t_s) {
  refresh(t_s);
  return s2_;
}

// --- ADC calibration ------------------------------------------------------------------------

double TileCore::adc_full_scale(Direction dir) const {
  return adc_fs_[dir == Direction::forward ? 0 : 1];
}

double TileCore::adc_step(Direction dir) const {
  return adc_full_scale(dir) / std::ldexp(1.0, static_cast<int>(p_.adc_bits) - 1);
}

void TileCore::set_adc_full_scale(Direction dir, double fs) {
  if (!(fs > 0)) throw std::invalid_argument(fmt::format("{}: ADC full scale must be > 0", name_));
  adc_fs_[dir == Direction::forward ? 0 : 1] = fs;
}

void TileCore::calibrate_adc_from_weights(double t_s) {
  refresh(t_s);
  const double col_max = static_cast<double>(w_.cwiseAbs().colwise().sum().maxCoeff());
  const double row_max = static_cast<double>(w_.cwiseAbs().rowwise().sum().maxCoeff());
  adc_fs_[0] = std::max(p_.adc_range_fraction * col_max, 1e-6);
  adc_fs_[1] = std::max(p_.adc_range_fraction * row_max, 1e-6);
}

// --- cost --------------------------------------------------------------------------------

int TileCore::n_adcs(Direction dir) const {
  const int n_out = dir == Direction::forward ? cols_ : rows_;
  const int per = static_cast<int>(p_.cols_per_adc);
  return (n_out + per - 1) / per;
}

OpCost TileCore::mvm_cost(Direction dir, int batch, Encoding enc, bool signed_inputs) const {
  OpCost c;
  const int n_in = dir == Direction::forward ? rows_ : cols_;
  int n_out = dir == Direction::forward ? cols_ : rows_;
  if (dir == Direction::forward && ref_) n_out += 1;  // the reference column is converted too
  const int adcs = n_adcs(dir);
  const int series = (n_out + adcs - 1) / adcs;
  const int pulses = enc == Encoding::bit_serial ? static_cast<int>(p_.dac_bits) : 1;
  const int phases = signed_inputs ? 2 : 1;
  const double reads = static_cast<double>(batch) * phases * pulses;
  const double t_conv = (static_cast<double>(p_.adc_bits) + 2.0) / (p_.f_adc_MHz * 1e6);
  const double t_read = (p_.t_dac_ns + p_.t_settle_ns) * 1e-9 + series * t_conv;
  c.latency_s = reads * t_read;
  const double dac_bits_per_conv =
      enc == Encoding::amplitude ? static_cast<double>(p_.dac_bits) : 1.0;
  c.energy_J[static_cast<std::size_t>(Phase::dac)] =
      reads * n_in * p_.e_dac_fJ_per_bit * dac_bits_per_conv * 1e-15;
  c.energy_J[static_cast<std::size_t>(Phase::row)] = reads * n_in * p_.e_row_pJ * 1e-12;
  // Worst case: every driven line at full V_read for t_settle (docs/tile.md).
  c.energy_J[static_cast<std::size_t>(Phase::array)] =
      reads * p_.v_read_V * p_.v_read_V * g_sum_uS_ * 1e-6 * p_.t_settle_ns * 1e-9;
  c.energy_J[static_cast<std::size_t>(Phase::adc)] =
      reads * n_out * p_.adc_fom_fJ * std::ldexp(1.0, static_cast<int>(p_.adc_bits)) * 1e-15;
  c.energy_J[static_cast<std::size_t>(Phase::digital)] = reads * n_out * p_.e_digital_pJ * 1e-12;
  c.conversions = static_cast<std::uint64_t>(reads) * static_cast<std::uint64_t>(n_out);
  return c;
}

OpCost TileCore::verify_cost() const {
  OpCost c;
  const double t_conv = (static_cast<double>(p_.adc_bits) + 2.0) / (p_.f_adc_MHz * 1e6);
  c.latency_s = (p_.t_dac_ns + p_.t_settle_ns) * 1e-9 + t_conv;
  c.energy_J[static_cast<std::size_t>(Phase::dac)] = p_.e_dac_fJ_per_bit * 1e-15;
  c.energy_J[static_cast<std::size_t>(Phase::row)] = p_.e_row_pJ * 1e-12;
  c.energy_J[static_cast<std::size_t>(Phase::array)] =
      p_.v_read_V * p_.v_read_V * p_.g_on_uS * 1e-6 * p_.t_settle_ns * 1e-9;
  c.energy_J[static_cast<std::size_t>(Phase::adc)] =
      p_.adc_fom_fJ * std::ldexp(1.0, static_cast<int>(p_.adc_bits)) * 1e-15;
  c.conversions = 1;
  return c;
}

OpCost TileCore::pulse_cost() const {
  OpCost c;
  c.latency_s = p_.t_pulse_ns * 1e-9;
  c.energy_J[static_cast<std::size_t>(Phase::row)] = p_.e_row_pJ * 1e-12;
  c.energy_J[static_cast<std::size_t>(Phase::pulse)] = p_.e_pulse_pJ * 1e-12;
  return c;
}

// --- MVM ---------------------------------------------------------------------------------

namespace {
// Adding and subtracting 1.5 * 2^23 rounds a float of magnitude < 2^22 to the nearest integer
// (ties to even) in the default rounding mode; unlike std::floor/std::round it
// vectorizes with SSE2.
constexpr float kRound = 12582912.0F;
}  // namespace

OpCost TileCore::mvm_batch(Direction dir, const float* X, int batch, float* Y, double t_s,
                           Encoding enc, bool signed_inputs) {
  if (batch < 0) throw std::invalid_argument(fmt::format("{}: negative batch", name_));
  refresh(t_s);
  const bool fwd = dir == Direction::forward;
  const int n_in = fwd ? rows_ : cols_;
  const int n_out = fwd ? cols_ : rows_;
  const bool ideal = p_.ideal_converters;
  const Encoding eff_enc = ideal ? Encoding::amplitude : enc;
  const int pulses = eff_enc == Encoding::bit_serial ? static_cast<int>(p_.dac_bits) : 1;
  const int phases = signed_inputs ? 2 : 1;
  const int K = batch * phases * pulses;
  const double dac_max = std::ldexp(1.0, static_cast<int>(p_.dac_bits)) - 1.0;
  const auto dac_maxf = static_cast<float>(dac_max);
  const float inv_dac = 1.0F / dac_maxf;

  // Drive matrix D (n_in x K): column k = (v*phases + ph)*pulses + b.
  xin_.resize(n_in, K);
  for (int v = 0; v < batch; ++v) {
    const Eigen::Map<const Eigen::ArrayXf> x(
        X + static_cast<std::size_t>(v) * static_cast<std::size_t>(n_in), n_in);
    for (int ph = 0; ph < phases; ++ph) {
      const float sgn = ph == 0 ? 1.0F : -1.0F;
      const int k0 = (v * phases + ph) * pulses;
      // This phase drives only its own sign, clipped to the DAC range [0, 1].
      if (ideal) {
        xin_.col(k0).array() = (x * sgn).max(0.0F).min(1.0F);
      } else if (pulses == 1) {  // amplitude: round to the nearest of 2^dac_bits levels
        xin_.col(k0).array() =
            (((x * sgn).max(0.0F).min(1.0F) * dac_maxf + kRound) - kRound) * inv_dac;
      } else {  // bit-serial: one 0/1 plane per bit
        for (int i = 0; i < n_in; ++i) {
          const float xv = std::min(std::max(x(i) * sgn, 0.0F), 1.0F);
          const auto q = static_cast<std::uint32_t>((xv * dac_maxf + kRound) - kRound);
          for (int b = 0; b < pulses; ++b)
            xin_(i, k0 + b) = static_cast<float>((q >> static_cast<unsigned>(b)) & 1U);
        }
      }
    }
  }

  const bool noise = p_.read_noise;
  if (gemm_isa_ != Isa::generic) {
    // The same products built for AVX2+FMA / AVX-512 (tile_gemm.hpp). w_ and s2_ are
    // row-major R x C, i.e. column-major C x R: forward (W^T X) is that matrix times X,
    // backward (W X) its transpose times X.
    acc_.resize(n_out, K);
    if (noise) var_.resize(n_out, K);
    const bool square = pulses == 1;  // bit planes: x^2 == x
#if defined(MEMPLAST_TILE_SIMD)
    const auto product = gemm_isa_ == Isa::avx512 ? gemm::product_avx512 : gemm::product_avx2;
    product(w_.data(), cols_, rows_, !fwd, xin_.data(), K, false, acc_.data());
    if (noise) product(s2_.data(), cols_, rows_, !fwd, xin_.data(), K, square, var_.data());
#endif
  } else {
    if (fwd) {
      acc_.noalias() = w_.transpose() * xin_;
    } else {
      acc_.noalias() = w_ * xin_;
    }
    if (noise) {
      if (pulses > 1) {  // bit planes: x^2 == x
        var_.noalias() = fwd ? (s2_.transpose() * xin_).eval() : (s2_ * xin_).eval();
      } else if (fwd) {
        var_.noalias() = s2_.transpose() * xin_.cwiseAbs2();
      } else {
        var_.noalias() = s2_ * xin_.cwiseAbs2();
      }
    }
  }
  const bool use_ref = fwd && ref_ != nullptr;
  Eigen::VectorXf ref_sig;
  Eigen::VectorXf ref_var;
  if (use_ref) {
    ref_sig = xin_.transpose() * w_ref_;
    if (noise) ref_var = xin_.cwiseAbs2().transpose() * s2_ref_;
  }

  const ZigguratNormal& gauss = ZigguratNormal::table();
  const auto step = static_cast<float>(adc_step(dir));
  const float inv_step = 1.0F / step;
  const auto code_max =
      static_cast<float>(std::ldexp(1.0, static_cast<int>(p_.adc_bits) - 1) - 1.0);
  const float code_min = -code_max - 1.0F;
  codes_.resize(ideal ? 0 : static_cast<std::size_t>(K) * static_cast<std::size_t>(n_out));
  noise_buf_.resize(static_cast<std::size_t>(n_out));
  std::fill(Y, Y + static_cast<std::size_t>(batch) * static_cast<std::size_t>(n_out), 0.0F);
  for (int k = 0; k < K; ++k) {
    const int v = k / (phases * pulses);
    const int ph = (k / pulses) % phases;
    const int b = k % pulses;
    double wgt = ph == 0 ? 1.0 : -1.0;
    if (pulses > 1) wgt *= std::ldexp(1.0, b) / dac_max;
    const auto weight = static_cast<float>(wgt);
    float ref_term = 0;
    if (use_ref) {
      ref_term = ref_sig(k);
      if (noise) ref_term += std::sqrt(ref_var(k)) * static_cast<float>(gauss(noise_rng_));
    }
    float* y = Y + static_cast<std::size_t>(v) * static_cast<std::size_t>(n_out);
    const float* a = acc_.data() + static_cast<std::size_t>(k) * static_cast<std::size_t>(n_out);
    float* nz = noise_buf_.data();
    if (noise) {
      // One normal draw per output per read, scaled by the aggregate sigma.
      const float* s2 = var_.data() + static_cast<std::size_t>(k) * static_cast<std::size_t>(n_out);
      gauss.fill(noise_rng_, nz, n_out);
      for (int j = 0; j < n_out; ++j)
        nz[j] = a[j] - ref_term + std::sqrt(std::max(s2[j], 0.0F)) * nz[j];
    } else {
      for (int j = 0; j < n_out; ++j) nz[j] = a[j] - ref_term;
    }
    if (ideal) {
      for (int j = 0; j < n_out; ++j) y[j] += weight * nz[j];
    } else {
      // Round to nearest (ties to even, via the 1.5 * 2^23 trick, exact for |code| < 2^22),
      // then clip to the code range. Plain loops: this file is built with -O3 so they
      // vectorize.
      std::int32_t* code =
          codes_.data() + static_cast<std::size_t>(k) * static_cast<std::size_t>(n_out);
      const float ws = weight * step;
      if (k < phases * pulses) {  // vector 0: the ADC input histogram's sample
        auto& h = adc_in_[dir == Direction::forward ? 0 : 1];
        for (int j = 0; j < n_out; ++j) h(static_cast<double>(nz[j] * inv_step));
      }
      for (int j = 0; j < n_out; ++j) {
        const float r = (nz[j] * inv_step + kRound) - kRound;
        const float c = std::min(std::max(r, code_min), code_max);
        code[j] = static_cast<std::int32_t>(c);
        y[j] += ws * c;
      }
    }
  }
  return mvm_cost(dir, batch, enc, signed_inputs);
}

void TileCore::state_io(StateIO& io) {
  io.section("tile");
  pos_->state_io(io);
  if (neg_) neg_->state_io(io);
  if (ref_) ref_->state_io(io);
  io.rng("noise_rng", noise_rng_);
  io.array("w", w_.data(), static_cast<std::uint64_t>(w_.size()));
  io.array("s2", s2_.data(), static_cast<std::uint64_t>(s2_.size()));
  io.array("w_ref", w_ref_.data(), static_cast<std::uint64_t>(w_ref_.size()));
  io.array("s2_ref", s2_ref_.data(), static_cast<std::uint64_t>(s2_ref_.size()));
  io.value("t_cache", t_cache_);
  io.value("cache_valid", cache_valid_);
  io.vec("dirty", dirty_, false);
  io.vec("dirty_flag", dirty_flag_);
  io.value("ref_dirty", ref_dirty_);
  io.value("g_sum_uS", g_sum_uS_);
  io.value("full_refreshes", full_refreshes_);
  io.array("adc_fs", adc_fs_.data(), adc_fs_.size());
  // Column repair and pending stuck cells: only where configured (the default layout
  // is unchanged).
  if (spare_ > 0) {
    io.vec("col_slot", col_slot_);
    io.vec("slot_col", slot_col_);
  }
  if (!stuck_events_.empty()) {
    auto next = static_cast<std::uint64_t>(stuck_next_);
    io.value("stuck_events_applied", next);
    stuck_next_ = static_cast<std::size_t>(next);
  }
}

}  // namespace memplast::tile
