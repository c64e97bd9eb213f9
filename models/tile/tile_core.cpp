#include "tile/tile_core.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "common/bytes.hpp"
#include "tile/ir_drop.hpp"
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
  init_ir_drop();
  init_iv();  // tile_iv.cpp
  // The best build of the MVM products the CPU runs (generic off x86-64, where
  // select_isa accepts nothing else); MEMPLAST_TILE_ISA or MEMPLAST_ISA forces one.
  gemm_isa_ = select_isa("MEMPLAST_TILE_ISA");
  w_ref_ = Eigen::VectorXf::Zero(rows_);
  s2_ref_ = Eigen::VectorXf::Zero(rows_);
  dirty_flag_.assign(n, 0);
  init_adc(global_seed);
  adc_fs_[0] = p_.adc_range_fraction * rows_;
  adc_fs_[1] = p_.adc_range_fraction * cols_;
  // Defined initial state. Differential: every weight at the level nearest 0 (both
  // devices at g_off, the as-fabricated HRS with the default g_off = g_min). Reference
  // column: the weight devices, like the reference cells, start as fabricated (the
  // device model's g_min, about -1 weight unit) and hold nothing until program-and-verify
  // writes them (the firmware's initial programming), so the initial weights pay their
  // pulses and carry programming spread.
  const int zero_level = static_cast<int>((p_.levels - 1) / 2);
  if (mapping_ == Mapping::differential) {
    for (int r = 0; r < rows_; ++r) {
      for (int c = 0; c < cols_; ++c) program_ideal(r, c, zero_level, 0.0);
    }
  }
  if (spare_ > 0 && mapping_ == Mapping::differential) {  // spares hold the zero level too
    const auto [gp, gn] = target_conductances(zero_level);
    for (std::size_t i = n; i < n_dev; ++i) {
      pos_->force(i, gp, 0.0);
      if (neg_) neg_->force(i, gn, 0.0);
    }
  }
  if (!dp.ideal) {
    load_stuck_cells(dp);
    std::stable_sort(stuck_events_.begin(), stuck_events_.end(),
                     [](const StuckEvent& a, const StuckEvent& b) { return a.t_s < b.t_s; });
    apply_stuck_events(0.0);
  }
  // The reference cells (reference mapping) are not written: they hold the device
  // model's as-fabricated state until programmed (program_reference_ideal, or
  // program-and-verify through the programming port).
  refresh(0.0);
}

// tile.ir_drop and tile.ir_compensation: the solver mode and its buffers.
void TileCore::init_ir_drop() {
  if (p_.ir_drop != "off") {
    if (mapping_ != Mapping::differential) {
      throw cfg::ConfigError(fmt::format(
          "{}: 'tile.ir_drop' is modelled for 'tile.mapping' differential only", name_));
    }
    ir_mode_ = p_.ir_drop == "exact" ? IrMode::exact : IrMode::approx;
    g_pos_ = RowMatrix::Zero(rows_, cols_);  // the constructor's refresh fills them
    g_neg_ = RowMatrix::Zero(rows_, cols_);
    if (p_.ir_compensation) {
      ir_gain_fwd_.assign(static_cast<std::size_t>(2 * cols_), 1.0F);
      ir_gain_tr_.assign(static_cast<std::size_t>(rows_), 1.0F);
      ir_comp_pending_ = true;
    }
  } else if (p_.ir_compensation) {
    throw cfg::ConfigError(
        fmt::format("{}: 'tile.ir_compensation' needs 'tile.ir_drop' approx or exact", name_));
  }
}

// The ADC input histograms and, with tile.adc_offset_sigma_lsb or tile.adc_gain_sigma,
// each line's converter mismatch (stream <tile>.adc_mismatch), untrimmed.
void TileCore::init_adc(std::uint64_t global_seed) {
  {
    const double half = std::ldexp(1.0, static_cast<int>(p_.adc_bits) - 1);
    const auto bins = static_cast<unsigned>(std::min(4.0 * half, 1024.0));
    for (auto& h : adc_in_) h = value_histogram(bins, -2 * half, 2 * half);
  }
  if (p_.adc_offset_sigma_lsb > 0 || p_.adc_gain_sigma > 0) {
    adc_mismatch_ = true;
    memplast::Rng mm(global_seed, name_ + ".adc_mismatch");
    for (int d = 0; d < 2; ++d) {
      const auto n_out = static_cast<std::size_t>(d == 0 ? cols_ : rows_);
      adc_gain_[d].resize(n_out);
      adc_offset_[d].resize(n_out);
      for (std::size_t j = 0; j < n_out; ++j) {
        adc_gain_[d][j] = static_cast<float>(1.0 + p_.adc_gain_sigma * mm.normal());
        adc_offset_[d][j] = static_cast<float>(p_.adc_offset_sigma_lsb * mm.normal());
      }
      adc_a_[d] = adc_gain_[d];  // untrimmed
      adc_b_[d] = adc_offset_[d];
    }
  }
}

// device.stuck_cells: this tile's entries, as stuck events in time order.
void TileCore::load_stuck_cells(const device::DeviceParams& dp) {
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
        e.col < cols_
            ? static_cast<std::size_t>(e.row) * static_cast<std::size_t>(cols_) +
                  static_cast<std::size_t>(e.col)
            : n_weights_ + static_cast<std::size_t>(e.row) * static_cast<std::size_t>(spare_) +
                  static_cast<std::size_t>(e.col - cols_);
    stuck_events_.push_back(
        {e.t_s, cell, e.neg, e.lrs ? device::Stuck::at_lrs : device::Stuck::at_hrs});
  }
}

double TileCore::level_value(int level) const {
  if (level < 0 || level >= levels()) {
    throw std::out_of_range(fmt::format("{}: level {} outside [0, {})", name_, level, levels()));
  }
  return -1.0 + 2.0 * level / static_cast<double>(levels() - 1);
}

double reference_uS(const TileParams& p) { return 0.5 * (p.g_on_uS + p.g_off_uS); }

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

std::size_t TileCore::device_state_bytes() const {
  std::size_t b = 0;
  for (const auto* a : {pos_.get(), neg_.get(), ref_.get()}) {
    if (a != nullptr) b += a->state_bytes();
  }
  return b;
}

std::size_t TileCore::device_count() const {
  std::size_t n = 0;
  for (const auto* a : {pos_.get(), neg_.get(), ref_.get()}) {
    if (a != nullptr) n += a->size();
  }
  return n;
}

std::size_t TileCore::cache_bytes() const {
  std::size_t b =
      bytes_of(w_) + bytes_of(s2_) + bytes_of(w_ref_) + bytes_of(s2_ref_) + bytes_of(col_slot_) +
      bytes_of(slot_col_) + bytes_of(dirty_) + bytes_of(dirty_flag_) + bytes_of(profile_y_) +
      bytes_of(ir_gain_fwd_) + bytes_of(ir_gain_tr_) + bytes_of(g_pos_) + bytes_of(g_neg_) +
      bytes_of(w_ir_fwd_) + bytes_of(w_ir_tr_) + bytes_of(nl_c_) + bytes_of(nl_x_) +
      bytes_of(xin_) + bytes_of(acc_) + bytes_of(var_) + bytes_of(codes_) + bytes_of(noise_buf_);
  for (int d = 0; d < 2; ++d) {
    const auto k = static_cast<std::size_t>(d);
    b += bytes_of(adc_profile_[k]) + bytes_of(dose_[k]) + bytes_of(adc_gain_[k]) +
         bytes_of(adc_offset_[k]) + bytes_of(adc_a_[k]) + bytes_of(adc_b_[k]) + bytes_of(nl_b_[k]) +
         bytes_of(nl_pulse_[k]);
  }
  return b;
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
  if (p_.ir_compensation) ir_comp_pending_ = true;
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
  program_reference_ideal(t_s);
  invalidate_all();
}

void TileCore::program_reference_ideal(double t_s) {
  if (!ref_) return;
  const double g_ref = reference_uS(p_);
  for (int r = 0; r < rows_; ++r) ref_->force(static_cast<std::size_t>(r), g_ref, t_s);
  ref_dirty_ = true;
}

template <class Apply>
OpCost TileCore::pulse(int row, int col, Side s, double t_s, Apply&& apply) {
  apply_stuck_events(t_s);
  const std::size_t i = s == Side::ref ? static_cast<std::size_t>(row) : cell_index(row, col);
  apply(array(s), i);
  if (s == Side::ref)
    ref_dirty_ = true;
  else
    mark_written(row, col);
  return pulse_cost();
}

OpCost TileCore::pulse_set(int row, int col, Side s, double v_gate_V, double t_s) {
  return pulse(row, col, s, t_s,
               [&](device::DeviceArray& a, std::size_t i) { a.set_pulse(i, v_gate_V, t_s); });
}

OpCost TileCore::pulse_reset(int row, int col, Side s, double v_reset_V, double t_s) {
  return pulse(row, col, s, t_s,
               [&](device::DeviceArray& a, std::size_t i) { a.reset_pulse(i, v_reset_V, t_s); });
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
    if (keep_conductances()) {
      g_pos_(r, c) = static_cast<float>(gp);
      g_neg_(r, c) = static_cast<float>(gn);
      ir_valid_ = false;
      if (nl_on_) iv_cell(r, c);
    }
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
    if (read_disturb_on()) apply_read_disturb(t_s);  // tile_disturb.cpp
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
      if (keep_conductances()) {  // the weight devices (the spare ones follow them)
        std::copy_n(gp.begin(), n, g_pos_.data());
        std::copy_n(gn.begin(), n, g_neg_.data());
        ir_valid_ = false;
        if (nl_on_) iv_all();
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

void TileCore::update_ir() {
  // Physical array: R rows x 2C columns, the pair of weight column c at 2c (G+) and
  // 2c+1 (G-). Transpose drives G+ with +x and G- with -x.
  const int P = 2 * cols_;
  const std::size_t n = static_cast<std::size_t>(rows_) * static_cast<std::size_t>(P);
  const ir::Wires wires{p_.ir_r_row_ohm, p_.ir_r_col_ohm, p_.ir_r_driver_ohm, p_.ir_r_sense_ohm};
  const auto inv_unit = static_cast<float>(1.0 / weight_unit_uS());
  std::vector<float> g(n);
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) {
      g[static_cast<std::size_t>(r * P + 2 * c)] = g_pos_(r, c);
      g[static_cast<std::size_t>(r * P + 2 * c + 1)] = g_neg_(r, c);
    }
  }
  w_ir_fwd_.resize(rows_, cols_);
  w_ir_tr_.resize(rows_, cols_);
  std::vector<float> Tf(n);
  std::vector<float> Tt(n);
  if (ir_mode_ == IrMode::exact) {
    const std::vector<double> gd(g.begin(), g.end());
    const std::vector<double> df = ir::exact_transfer(gd, rows_, P, wires, ir::Drive::rows);
    const std::vector<double> dt = ir::exact_transfer(gd, rows_, P, wires, ir::Drive::cols);
    for (std::size_t i = 0; i < n; ++i) {
      Tf[i] = static_cast<float>(df[i]);
      Tt[i] = static_cast<float>(dt[i]);
    }
  } else {
    ir::approx_transfer_pair(g.data(), rows_, P, wires, Tf.data(), Tt.data());
  }
  for (const auto d : {ir::Drive::rows, ir::Drive::cols}) {
    const std::vector<float>& T = d == ir::Drive::rows ? Tf : Tt;
    RowMatrix& w = d == ir::Drive::rows ? w_ir_fwd_ : w_ir_tr_;
    if (ir_comp_pending_) {
      // Calibration read, every input on: each sensed line's gain = the current its
      // conductances would give without IR drop / the current it gives. Forward senses
      // the P physical columns (cells r * P + p over r), transpose the rows (over p).
      const bool fwd = d == ir::Drive::rows;
      const int lines = fwd ? P : rows_;
      const int cells = fwd ? rows_ : P;
      std::vector<float>& gain = fwd ? ir_gain_fwd_ : ir_gain_tr_;
      for (int i = 0; i < lines; ++i) {
        double ideal = 0, real = 0;
        for (int j = 0; j < cells; ++j) {
          const std::size_t k = static_cast<std::size_t>(fwd ? j * P + i : i * P + j);
          ideal += static_cast<double>(g[k]);
          real += static_cast<double>(T[k]);
        }
        gain[static_cast<std::size_t>(i)] = static_cast<float>(ideal / real);
      }
    }
    const bool comp = p_.ir_compensation;
    for (int r = 0; r < rows_; ++r) {
      for (int c = 0; c < cols_; ++c) {
        const std::size_t k = static_cast<std::size_t>(r * P + 2 * c);
        if (!comp) {
          w(r, c) = (T[k] - T[k + 1]) * inv_unit;
        } else if (d == ir::Drive::rows) {
          const auto kc = static_cast<std::size_t>(2 * c);
          w(r, c) = (ir_gain_fwd_[kc] * T[k] - ir_gain_fwd_[kc + 1] * T[k + 1]) * inv_unit;
        } else {
          w(r, c) = ir_gain_tr_[static_cast<std::size_t>(r)] * (T[k] - T[k + 1]) * inv_unit;
        }
      }
    }
  }
  ir_valid_ = true;
  nl_pulse_valid_ = {false, false};
  ir_comp_pending_ = false;
  ++ir_updates_;
}

OpCost TileCore::ir_compensation_cost() const {
  // One forward read with every physical column converted on its own (2C conversions:
  // twice a forward MVM's) and one transpose read (R conversions).
  const OpCost f = mvm_cost_base(Direction::forward, 1, Encoding::amplitude, false);
  OpCost c = f;
  c += f;
  c += mvm_cost_base(Direction::transpose, 1, Encoding::amplitude, false);
  return c;
}

const TileCore::RowMatrix& TileCore::effective_weights(Direction dir, double t_s) {
  refresh(t_s);
  if (ir_mode_ == IrMode::off) return w_;
  if (!ir_valid_) update_ir();
  return dir == Direction::forward ? w_ir_fwd_ : w_ir_tr_;
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

// --- ADC trim ------------------------------------------------------------------------------

namespace {
// Reference inputs of the trim, in code units: tile.adc_trim_points evenly spread over
// +-0.9 of the code range (inside it, so that no point clips).
std::vector<double> trim_points(const TileParams& p) {
  const double h = std::ldexp(1.0, static_cast<int>(p.adc_bits) - 1);
  const auto n = static_cast<int>(p.adc_trim_points);
  std::vector<double> u(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) u[static_cast<std::size_t>(i)] = -0.9 * h + 1.8 * h * i / (n - 1);
  return u;
}
}  // namespace

float TileCore::raw_code(int d, int j, double u, float trim_gain, float trim_off) const {
  const double h = std::ldexp(1.0, static_cast<int>(p_.adc_bits) - 1);
  const auto jz = static_cast<std::size_t>(j);
  const auto a = static_cast<double>(adc_gain_[d][jz] / trim_gain);
  const auto b = static_cast<double>((adc_offset_[d][jz] - trim_off) / trim_gain);
  return static_cast<float>(std::clamp(std::nearbyint(a * u + b), -h, h - 1));
}

OpCost TileCore::adc_trim_cost() const {
  // Per direction: every point settles the reference and converts every sensed line
  // (cols_per_adc lines in series per ADC); a multiply-add per conversion for the fit.
  OpCost c;
  const double t_conv = (static_cast<double>(p_.adc_bits) + 2.0) / (p_.f_adc_MHz * 1e6);
  const auto pts = static_cast<double>(p_.adc_trim_points);
  for (const Direction dir : {Direction::forward, Direction::transpose}) {
    const int n_out = dir == Direction::forward ? cols_ : rows_;
    const int adcs = n_adcs(dir);
    const int series = (n_out + adcs - 1) / adcs;
    c.latency_s += pts * (p_.t_settle_ns * 1e-9 + series * t_conv);
    c.energy_J[static_cast<std::size_t>(Phase::adc)] +=
        pts * n_out * p_.adc_fom_fJ * std::ldexp(1.0, static_cast<int>(p_.adc_bits)) * 1e-15;
    c.energy_J[static_cast<std::size_t>(Phase::digital)] += pts * n_out * p_.e_digital_pJ * 1e-12;
    c.conversions += static_cast<std::uint64_t>(pts) * static_cast<std::uint64_t>(n_out);
  }
  return c;
}

OpCost TileCore::calibrate_adc_trim() {
  if (adc_mismatch_) {
    const std::vector<double> u = trim_points(p_);
    const double n = static_cast<double>(u.size());
    for (int d = 0; d < 2; ++d) {
      for (std::size_t j = 0; j < adc_gain_[d].size(); ++j) {
        // Least-squares line code = g u + o through the untrimmed codes.
        double su = 0, sc = 0, suu = 0, suc = 0;
        for (const double ui : u) {
          const auto ci = static_cast<double>(raw_code(d, static_cast<int>(j), ui, 1.0F, 0.0F));
          su += ui;
          sc += ci;
          suu += ui * ui;
          suc += ui * ci;
        }
        const double g = (n * suc - su * sc) / (n * suu - su * su);
        const double o = (sc - g * su) / n;
        adc_a_[d][j] = static_cast<float>(static_cast<double>(adc_gain_[d][j]) / g);
        adc_b_[d][j] = static_cast<float>((static_cast<double>(adc_offset_[d][j]) - o) / g);
      }
    }
  }
  return adc_trim_cost();
}

double TileCore::adc_trim_residual_lsb() const {
  if (!adc_mismatch_) return 0.0;
  const double h = std::ldexp(1.0, static_cast<int>(p_.adc_bits) - 1);
  double worst = 0;
  for (int d = 0; d < 2; ++d) {
    for (std::size_t j = 0; j < adc_a_[d].size(); ++j) {
      for (const double u : trim_points(p_)) {
        const double c = std::clamp(std::nearbyint(static_cast<double>(adc_a_[d][j]) * u +
                                                   static_cast<double>(adc_b_[d][j])),
                                    -h, h - 1);
        worst = std::max(worst, std::abs(c - std::clamp(std::nearbyint(u), -h, h - 1)));
      }
    }
  }
  return worst;
}

// --- cost --------------------------------------------------------------------------------

int TileCore::n_adcs(Direction dir) const {
  const int n_out = dir == Direction::forward ? cols_ : rows_;
  const int per = static_cast<int>(p_.cols_per_adc);
  return (n_out + per - 1) / per;
}

OpCost TileCore::mvm_cost(Direction dir, int batch, Encoding enc, bool signed_inputs) const {
  OpCost c = mvm_cost_base(dir, batch, enc, signed_inputs);
  if (ir_comp_pending_) c += ir_compensation_cost();
  return c;
}

OpCost TileCore::mvm_cost_base(Direction dir, int batch, Encoding enc, bool signed_inputs) const {
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

int TileCore::active_inputs(int K) const {
  const auto n_in = static_cast<int>(xin_.rows());
  if (!trim_inputs_ || K < 2) return n_in;  // (one vector: Eigen's GEMV, not trimmed)
  int last = 0;  // one past the last driven line with a non-zero drive in any read
  for (int k = 0; k < K; ++k) {
    const float* x = xin_.data() + static_cast<std::size_t>(k) * static_cast<std::size_t>(n_in);
    for (int i = n_in; i > last; --i) {
      if (x[i - 1] != 0.0F) {
        last = i;
        break;
      }
    }
    if (last == n_in) return n_in;
  }
  return std::min(n_in, std::max(8, (last + 7) / 8 * 8));
}

OpCost TileCore::mvm_batch(Direction dir, const float* X, int batch, float* Y, double t_s,
                           Encoding enc, bool signed_inputs) {
  if (batch < 0) throw std::invalid_argument(fmt::format("{}: negative batch", name_));
  // A pending IR-drop compensation runs now (in effective_weights); its cost is part of
  // this MVM's, as mvm_cost says before the call.
  const bool calibrating = ir_comp_pending_;
  // The cached weights, or with IR drop those seen through the wires (refreshes the
  // cache); with the I-V nonlinearity and bit-serial pulses, those times their gain.
  const bool iv_pulses = nl_on_ && !p_.ideal_converters && enc == Encoding::bit_serial;
  const RowMatrix& wm = iv_pulses ? iv_pulse_weights(dir, t_s) : effective_weights(dir, t_s);
  // After the refresh: the array energy uses the refreshed conductance sum.
  OpCost cost = mvm_cost_base(dir, batch, enc, signed_inputs);
  if (calibrating) cost += ir_compensation_cost();
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

  if (read_disturb_on()) accumulate_read_dose(dir, K);  // tile_disturb.cpp
  const bool noise = p_.read_noise;
  // Driven lines past the last one any read drives (every drive exactly 0, e.g. the rows
  // of a partly filled tile, which the driver pads with zeros) add only exact zeros to the
  // sums: the products skip them (issue 16). The depth is rounded up to a multiple of 8,
  // the depth step of Eigen's kernels, so that every output accumulates its non-zero
  // terms in the same order and registers as with the full depth (bit-identical results;
  // tested by TileCore.ZeroTailInputsSkipExactly).
  const int n_act = active_inputs(K);
  const auto nA = static_cast<Eigen::Index>(n_act);
  if (gemm_isa_ != Isa::generic) {
    // The same products built for AVX2+FMA / AVX-512 (tile_gemm.hpp). w_ and s2_ are
    // row-major R x C, i.e. column-major C x R: forward (W^T X) is that matrix times X,
    // backward (W X) its transpose times X.
    acc_.resize(n_out, K);
    if (noise) var_.resize(n_out, K);
    const bool square = pulses == 1;  // bit planes: x^2 == x
#if defined(MEMPLAST_TILE_SIMD)
    const auto product = gemm_isa_ == Isa::avx512 ? gemm::product_avx512 : gemm::product_avx2;
    product(wm.data(), cols_, rows_, !fwd, n_act, xin_.data(), n_in, K, false, acc_.data());
    if (noise) {
      product(s2_.data(), cols_, rows_, !fwd, n_act, xin_.data(), n_in, K, square, var_.data());
    }
#endif
  } else if (n_act == n_in) {
    if (fwd) {
      acc_.noalias() = wm.transpose() * xin_;
    } else {
      acc_.noalias() = wm * xin_;
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
  } else {
    const auto xa = xin_.topRows(nA);
    if (fwd) {
      acc_.noalias() = wm.topRows(nA).transpose() * xa;
    } else {
      acc_.noalias() = wm.leftCols(nA) * xa;
    }
    if (noise) {
      if (pulses > 1) {  // bit planes: x^2 == x
        var_.noalias() =
            fwd ? (s2_.topRows(nA).transpose() * xa).eval() : (s2_.leftCols(nA) * xa).eval();
      } else if (fwd) {
        var_.noalias() = s2_.topRows(nA).transpose() * xa.cwiseAbs2();
      } else {
        var_.noalias() = s2_.leftCols(nA) * xa.cwiseAbs2();
      }
    }
  }
  if (nl_on_ && pulses == 1) add_iv_terms(fwd, n_act);  // amplitude: + B x^2 + C x^3
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
      if (adc_mismatch_) {  // per-line gain and offset as trimmed (docs/tile.md)
        const float* ga = adc_a_[fwd ? 0 : 1].data();
        const float* gb = adc_b_[fwd ? 0 : 1].data();
        for (int j = 0; j < n_out; ++j) {
          const float r = ((nz[j] * inv_step * ga[j] + gb[j]) + kRound) - kRound;
          const float c = std::min(std::max(r, code_min), code_max);
          code[j] = static_cast<std::int32_t>(c);
          y[j] += ws * c;
        }
        continue;
      }
      for (int j = 0; j < n_out; ++j) {
        const float r = (nz[j] * inv_step + kRound) - kRound;
        const float c = std::min(std::max(r, code_min), code_max);
        code[j] = static_cast<std::int32_t>(c);
        y[j] += ws * c;
      }
    }
  }
  if (!ideal) {
    finish_conversions(dir, batch, phases, pulses, Y);
  } else {
    sat_last_ = 0;
    sat_inject_u_ = -1.0;
  }
  return cost;
}

void TileCore::finish_conversions(Direction dir, int batch, int phases, int pulses, float* Y) {
  const bool fwd = dir == Direction::forward;
  const int n_out = fwd ? cols_ : rows_;
  const auto code_max =
      static_cast<std::int32_t>(std::ldexp(1.0, static_cast<int>(p_.adc_bits) - 1) - 1.0);
  const std::int32_t code_min = -code_max - 1;
  if (sat_inject_u_ >= 0) {  // one ADC saturated: its lines' codes at the limit, Y redone
    const int per = static_cast<int>(p_.cols_per_adc);
    const int adcs = n_adcs(dir);
    const int a = std::min(static_cast<int>(sat_inject_u_ * adcs), adcs - 1);
    const int j0 = a * per;
    const int j1 = std::min(j0 + per, n_out);
    const double step = adc_step(dir);
    const double dac_max = std::ldexp(1.0, static_cast<int>(p_.dac_bits)) - 1.0;
    for (int v = 0; v < batch; ++v) {
      float* y = Y + static_cast<std::size_t>(v) * static_cast<std::size_t>(n_out);
      for (int j = j0; j < j1; ++j) y[j] = 0.0F;
      for (int ph = 0; ph < phases; ++ph) {
        for (int b = 0; b < pulses; ++b) {
          const int k = (v * phases + ph) * pulses + b;
          double wgt = ph == 0 ? 1.0 : -1.0;
          if (pulses > 1) wgt *= std::ldexp(1.0, b) / dac_max;
          std::int32_t* code =
              codes_.data() + static_cast<std::size_t>(k) * static_cast<std::size_t>(n_out);
          for (int j = j0; j < j1; ++j) {
            code[j] = code[j] < 0 ? code_min : code_max;
            y[j] += static_cast<float>(wgt * step) * static_cast<float>(code[j]);
          }
        }
      }
    }
    sat_inject_u_ = -1.0;
  }
  std::uint64_t n = 0;
  for (const std::int32_t c : codes_) n += (c == code_max || c == code_min) ? 1U : 0U;
  sat_last_ = n;
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
  if (adc_mismatch_) {  // the trim (the mismatch itself is redrawn from the seed)
    for (int d = 0; d < 2; ++d) {
      io.vec(d == 0 ? "adc_a_fwd" : "adc_a_tr", adc_a_[d]);
      io.vec(d == 0 ? "adc_b_fwd" : "adc_b_tr", adc_b_[d]);
    }
  }
  if (read_disturb_on()) {  // absent without read disturb: the format is unchanged
    io.vec("dose_fwd", dose_[0], false);
    io.vec("dose_tr", dose_[1], false);
    io.value("disturb_total_uS", disturb_total_uS_);
  }
  if (p_.adc_range != "fixed") {  // absent with a fixed range: the format is unchanged
    io.array("adc_range_steps", adc_range_steps_.data(), adc_range_steps_.size());
    io.vec("adc_profile_fwd", adc_profile_[0], false);
    io.vec("adc_profile_tr", adc_profile_[1], false);
  }
  if (keep_conductances()) {  // absent with IR drop and I-V nonlinearity off
    io.array("g_pos", g_pos_.data(), static_cast<std::uint64_t>(g_pos_.size()));
    io.array("g_neg", g_neg_.data(), static_cast<std::uint64_t>(g_neg_.size()));
    if (nl_on_ && io.reading()) iv_all();
  }
  if (ir_mode_ != IrMode::off) {
    if (p_.ir_compensation) {
      io.vec("ir_gain_fwd", ir_gain_fwd_);
      io.vec("ir_gain_tr", ir_gain_tr_);
      io.value("ir_comp_pending", ir_comp_pending_);
    }
    if (io.reading()) ir_valid_ = false;
  }
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
