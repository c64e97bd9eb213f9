#include "tile/tile_sc.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "sim/sc_support.hpp"
#include "sim/state_sc.hpp"
#include "tile/prog_codes.hpp"
#include "tile/tile_regs.hpp"

namespace memplast::tile {

namespace {
using memplast::regs::get_field;
using memplast::regs::set_field;
}  // namespace

TileModule::TileModule(const sc_core::sc_module_name& name, const TileParams& p,
                       const device::DeviceParams& dp, std::uint64_t global_seed,
                       EnergyLedger* ledger)
    : bus::Target(name, regs::kRegisters, regs::kWindows, sim::cycles(1, p.f_clk_MHz)),
      p_(p),
      core_(p, dp, global_seed, this->name()),
      ledger_(ledger),
      log_(this->name()),
      clk_(sim::cycles(1, p.f_clk_MHz)),
      done_q_("done_q") {
  const std::size_t per_vector = static_cast<std::size_t>(std::max(p.rows, p.cols));
  const std::size_t n = per_vector * static_cast<std::size_t>(p.buffer_vectors);
  if (n * sizeof(float) > regs::INPUT_SIZE || n * sizeof(float) > regs::OUTPUT_SIZE) {
    throw cfg::ConfigError(
        fmt::format("{}: keys 'tile.rows'/'tile.cols' x 'tile.buffer_vectors' need {} bytes of "
                    "buffer, more than the "
                    "{}-byte INPUT window of the register map",
                    this->name(), n * sizeof(float), regs::INPUT_SIZE));
  }
  buf_vectors_ = static_cast<std::uint32_t>(p.buffer_vectors);
  in_buf_.assign(n, 0.0F);
  out_buf_.assign(n, 0.0F);
  if (ledger_ != nullptr) {
    for (std::size_t i = 0; i < kPhases; ++i)
      energy_ids_[i] = ledger_->entry(this->name(), phase_name(static_cast<Phase>(i)));
    e_busy_wait_ = ledger_->row_entry(this->name(), "busy_wait");
    e_prog_set_ = ledger_->entry(this->name(), "prog_set");
    e_prog_reset_ = ledger_->entry(this->name(), "prog_reset");
    e_prog_verify_ = ledger_->entry(this->name(), "prog_verify");
  }
  prog_socket.register_b_transport(this, &TileModule::prog_transport);
  registers().set(regs::ROWS, static_cast<std::uint32_t>(p.rows));
  registers().set(regs::COLS, static_cast<std::uint32_t>(p.cols));
  registers().set(regs::ADC_BITS, static_cast<std::uint32_t>(p.adc_bits));
  registers().set(regs::DAC_BITS, static_cast<std::uint32_t>(p.dac_bits));
  registers().set(regs::COLS_PER_ADC, static_cast<std::uint32_t>(p.cols_per_adc));
  registers().set(regs::BUF_VECTORS, buf_vectors_);
  registers().set(regs::SPARE_COLS, static_cast<std::uint32_t>(p.spare_cols));
  bind_col_remap();
  bind_adc_range();
  if (core_.encoding() == Encoding::bit_serial) {
    registers().set(regs::CONFIG,
                    set_field(registers().get(regs::CONFIG), regs::CONFIG_ENCODING_MASK,
                              regs::CONFIG_ENCODING_SHIFT, regs::CONFIG_ENCODING_BIT_SERIAL));
  }
  registers().on_write(regs::CMD, [this](std::uint32_t v, std::uint32_t) {
    if (!on_cmd(v, access_time())) fail(tlm::TLM_COMMAND_ERROR_RESPONSE);  // unknown CMD.OP
  });
  registers().on_read(regs::STATUS, [this](std::uint32_t stored) {
    std::uint32_t s = stored & (regs::STATUS_ERROR_MASK | regs::STATUS_ERR_CODE_MASK);
    if (busy_at(access_time())) s |= regs::STATUS_BUSY_MASK;
    if (started_ && !busy_at(access_time())) s |= regs::STATUS_DONE_MASK;
    return s;
  });
  registers().on_write(regs::IRQ_STATUS, [this](std::uint32_t, std::uint32_t) { update_irq(); });
  registers().on_write(regs::IRQ_ENABLE, [this](std::uint32_t, std::uint32_t) { update_irq(); });
  const auto handler = [this](const bus::WindowAccess& a) { return window(a); };
  on_window(regs::INPUT_OFFSET, handler);
  on_window(regs::OUTPUT_OFFSET, handler);
  on_window(regs::PROFILE_OFFSET, handler);
  SC_METHOD(on_done);
  sensitive << done_q_.default_event();
  dont_initialize();
  SC_METHOD(drive_busy);
  sensitive << busy_q_.default_event();
  dont_initialize();
}

// COL_REMAP (tile.spare_cols): column repair.
void TileModule::bind_col_remap() {
  // Column repair: refused while an operation runs or out of range (nothing changes).
  on_write_check(regs::COL_REMAP, [this](std::uint32_t v) {
    const auto col = static_cast<int>((v & regs::COL_REMAP_COL_MASK) >> regs::COL_REMAP_COL_SHIFT);
    const auto spare =
        static_cast<int>((v & regs::COL_REMAP_SPARE_MASK) >> regs::COL_REMAP_SPARE_SHIFT);
    const bool enable = (v & regs::COL_REMAP_ENABLE_MASK) != 0;
    if (busy_at(access_time()) || col >= core_.cols() || (enable && spare >= core_.spare_cols()))
      return tlm::TLM_COMMAND_ERROR_RESPONSE;
    for (int c = 0; enable && c < core_.cols(); ++c) {
      if (c != col && core_.remapped_to(c) == spare) return tlm::TLM_COMMAND_ERROR_RESPONSE;
    }
    return tlm::TLM_OK_RESPONSE;
  });
  registers().on_write(regs::COL_REMAP, [this](std::uint32_t v, std::uint32_t) {
    core_.remap_column(
        static_cast<int>((v & regs::COL_REMAP_COL_MASK) >> regs::COL_REMAP_COL_SHIFT),
        static_cast<int>((v & regs::COL_REMAP_SPARE_MASK) >> regs::COL_REMAP_SPARE_SHIFT),
        (v & regs::COL_REMAP_ENABLE_MASK) != 0);
  });
}

// ADC_RANGE_FWD / ADC_RANGE_TR (tile.adc_range): the ADC full scale in profiling steps.
void TileModule::bind_adc_range() {
  profile_buf_.assign((static_cast<std::size_t>(1) << (p_.adc_bits - 1)) + 1, 0U);
  const auto half = static_cast<std::uint32_t>(1U << (p_.adc_bits - 1));
  for (const std::uint32_t reg : {regs::ADC_RANGE_FWD, regs::ADC_RANGE_TR}) {
    const Direction dir = reg == regs::ADC_RANGE_FWD ? Direction::forward : Direction::transpose;
    on_write_check(reg, [this, half](std::uint32_t v) {
      return busy_at(access_time()) || v > half ? tlm::TLM_COMMAND_ERROR_RESPONSE
                                                : tlm::TLM_OK_RESPONSE;
    });
    registers().on_write(reg, [this, dir](std::uint32_t v, std::uint32_t) {
      core_.set_adc_range_steps(dir, static_cast<int>(v));
    });
  }
}

void TileModule::drive_busy() { busy_sig_.write(busy_at(sc_core::sc_time_stamp())); }

sc_core::sc_time TileModule::acquire(const sc_core::sc_time& now,
                                     const sc_core::sc_time& duration) {
  const sc_core::sc_time start = std::max(now, busy_until_);
  busy_until_ = start + duration;
  if (start > now && ledger_ != nullptr)
    ledger_->charge_rows(e_busy_wait_, 0.0, 1, (start - now).to_seconds());
  return start;
}

void TileModule::update_irq() {
  irq_level_.update(irq_out,
                    (registers().get(regs::IRQ_STATUS) & registers().get(regs::IRQ_ENABLE)) != 0);
}

TileModule::~TileModule() {
  try {
    join();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the run is being torn down
  }
}

void TileModule::join() {
  if (!mvm_job_) return;
  const auto j = std::move(mvm_job_);
  mvm_job_.reset();
  pool().wait(j);
  sat_op_ = static_cast<std::int64_t>(core_.last_saturated());
  adc_saturated_ += core_.last_saturated();
  if (sat_deferred_) {
    sat_deferred_ = false;
    apply_sat();
  }
}

void TileModule::apply_sat() {
  if (sat_op_ < 0) return;  // not an MVM
  // The saturation detector's count and flag.
  const auto n = static_cast<std::uint64_t>(sat_op_);
  constexpr std::uint64_t kMax = 0xFFFFFFFFU;
  registers().set(regs::ADC_SAT_COUNT, static_cast<std::uint32_t>(std::min(n, kMax)));
  registers().set(regs::ADC_SAT_TOTAL, static_cast<std::uint32_t>(std::min(
                                           registers().get(regs::ADC_SAT_TOTAL) + n, kMax)));
  if (n > 0) registers().set_bits(regs::IRQ_STATUS, regs::IRQ_STATUS_ADC_SAT_MASK);
}

void TileModule::on_done() {
  registers().set(regs::OP_COUNT, registers().get(regs::OP_COUNT) + 1);
  // An MVM still computing on a worker (sim.threads) when its DONE interrupt is enabled:
  // its ADC_SAT_COUNT, ADC_SAT_TOTAL and IRQ_STATUS.ADC_SAT are set by join(), at the
  // next access to the tile (every access joins first, so no read can see them unset),
  // and the interrupt line is high through DONE either way. Otherwise they are set now.
  if (mvm_job_ && (registers().get(regs::IRQ_ENABLE) & regs::IRQ_STATUS_DONE_MASK) != 0) {
    sat_deferred_ = true;
  } else {
    join();
    apply_sat();
  }
  registers().set_bits(regs::IRQ_STATUS, regs::IRQ_STATUS_DONE_MASK);
  MP_LOG(log_, debug, "operation done");
  update_irq();
  done_ev_.notify();
}

void TileModule::reject(std::uint32_t err_code, const char* why) {
  MP_LOG(log_, warn, "command rejected: {}", why);
  std::uint32_t s = registers().get(regs::STATUS) | regs::STATUS_ERROR_MASK;
  s = set_field(s, regs::STATUS_ERR_CODE_MASK, regs::STATUS_ERR_CODE_SHIFT, err_code);
  registers().set(regs::STATUS, s);
  registers().set_bits(regs::IRQ_STATUS, regs::IRQ_STATUS_ERROR_MASK);
  update_irq();
}

void TileModule::finish_start(const OpCost& cost, const sc_core::sc_time& start, const char* op,
                              std::uint32_t vectors) {
  const sc_core::sc_time lat(cost.latency_s, sc_core::SC_SEC);
  op_start_ = start;
  op_end_ = start + lat;
  started_ = true;
  registers().set(regs::LAST_LATENCY_NS,
                  static_cast<std::uint32_t>(std::lround(lat.to_seconds() * 1e9)));
  registers().set(regs::CYCLES_LAST, static_cast<std::uint32_t>(std::ceil(lat / clk_ - 1e-9)));
  if (ledger_ != nullptr) {
    for (std::size_t i = 0; i < kPhases; ++i) {
      if (cost.energy_J[i] > 0) ledger_->charge(energy_ids_[i], cost.energy_J[i], 1);
    }
  }
  done_q_.notify(op_end_ - sc_core::sc_time_stamp());
  busy_q_.notify(start - sc_core::sc_time_stamp());
  busy_q_.notify(op_end_ - sc_core::sc_time_stamp());
  MP_LOG(log_, debug, "start {} end {}", start.to_string(), op_end_.to_string());
  if (probe().on()) {
    auto& tr = probe().tracer();
    const auto t0 = sim::to_ps(start);
    const auto dur = sim::to_ps(lat);
    tr.advance(sim::to_ps(sc_core::sc_time_stamp()));
    tr.energy(name(), t0, dur, cost.energy_total_J());
    if (probe().events()) {
      trace::Args a;
      a.add("rows", core_.rows()).add("cols", core_.cols());
      if (vectors != 0) a.add("vectors", vectors);
      a.add("adc_conversions", cost.conversions).add("energy_pJ", cost.energy_total_J() * 1e12);
      tr.complete(probe().track(), op, "tile", t0, dur, a);
    }
  }
}

bool TileModule::on_cmd(std::uint32_t value, const sc_core::sc_time& at) {
  const std::uint32_t op = get_field(value, regs::CMD_OP_MASK, regs::CMD_OP_SHIFT);
  if (op == regs::CMD_OP_CLEAR_ERROR) {
    registers().clear_bits(regs::STATUS, regs::STATUS_ERROR_MASK | regs::STATUS_ERR_CODE_MASK);
    return true;
  }
  if (op < regs::CMD_OP_MVM_FWD || op > regs::CMD_OP_PROFILE_TRANSPOSE) {
    reject(regs::STATUS_ERR_CODE_BAD_OP, "unknown CMD.OP");
    return false;
  }
  if (busy_at(at)) {
    reject(regs::STATUS_ERR_CODE_BUSY, "command while busy");
    return true;
  }
  if (op == regs::CMD_OP_ADC_TRIM) {
    // The start-up trim (tile.adc_calibration): reference inputs on every sensed line.
    const OpCost cost = core_.adc_trim_cost();
    const sc_core::sc_time start = acquire(at, sc_core::sc_time(cost.latency_s, sc_core::SC_SEC));
    core_.calibrate_adc_trim();
    finish_start(cost, start, "adc_trim");
    return true;
  }
  const bool profile = op == regs::CMD_OP_PROFILE_FWD || op == regs::CMD_OP_PROFILE_TRANSPOSE;
  if (op == regs::CMD_OP_MVM_FWD || op == regs::CMD_OP_MVM_TRANSPOSE || profile) {
    const std::uint32_t cfg = registers().get(regs::CONFIG);
    const std::uint32_t enc_v =
        get_field(cfg, regs::CONFIG_ENCODING_MASK, regs::CONFIG_ENCODING_SHIFT);
    const std::uint32_t n =
        get_field(cfg, regs::CONFIG_N_VECTORS_MASK, regs::CONFIG_N_VECTORS_SHIFT);
    if (n == 0 || n > buf_vectors_ || enc_v > regs::CONFIG_ENCODING_BIT_SERIAL) {
      reject(regs::STATUS_ERR_CODE_BAD_CONFIG,
             "CONFIG: N_VECTORS outside 1..BUF_VECTORS or unknown ENCODING");
      return true;
    }
    const Direction dir = op == regs::CMD_OP_MVM_FWD || op == regs::CMD_OP_PROFILE_FWD
                              ? Direction::forward
                              : Direction::transpose;
    const Encoding enc =
        enc_v == regs::CONFIG_ENCODING_BIT_SERIAL ? Encoding::bit_serial : Encoding::amplitude;
    const bool sgn = (cfg & regs::CONFIG_SIGNED_MASK) != 0;
    // The cost does not depend on the data: reserve the tile first, then compute at
    // the start time (relaxation is evaluated there).
    const OpCost cost = core_.mvm_cost(dir, static_cast<int>(n), enc, sgn);
    const sc_core::sc_time start = acquire(at, sc_core::sc_time(cost.latency_s, sc_core::SC_SEC));
    if (profile) {  // the outputs are discarded; the histogram goes to the PROFILE window
      core_.profile_batch(dir, in_buf_.data(), static_cast<int>(n), start.to_seconds(), enc, sgn);
      profile_buf_ = core_.adc_profile(dir);
      finish_start(cost, start, dir == Direction::forward ? "profile_fwd" : "profile_transpose", n);
      return true;
    }
    if (adc_faults_.configured()) maybe_inject_adc(start);
    // The computation itself is deferred (sim.threads): it runs on a worker while the
    // kernel goes on, and join() collects it before anything touches this tile again.
    // It reads only this tile's state, the input buffer and the start time.
    const double t0 = start.to_seconds();
    mvm_job_ = pool().submit([this, dir, n, t0, enc, sgn] {
      core_.mvm_batch(dir, in_buf_.data(), static_cast<int>(n), out_buf_.data(), t0, enc, sgn);
    });
    finish_start(cost, start, dir == Direction::forward ? "mvm_fwd" : "mvm_transpose", n);
    return true;
  }
  // Single-cell operations: PROG_COL < C addresses G+ (or the only device), C..2C-1 the
  // G- device of a differential pair, C the reference column (reference mapping).
  const std::uint32_t row = registers().get(regs::PROG_ROW);
  const std::uint32_t pcol = registers().get(regs::PROG_COL);
  const auto R = static_cast<std::uint32_t>(core_.rows());
  Side side = Side::pos;
  std::uint32_t col = 0;
  if (row >= R || !decode_pcol(pcol, &side, &col)) {
    reject(regs::STATUS_ERR_CODE_BAD_CELL, "PROG_ROW/PROG_COL outside the array");
    return true;
  }
  const auto r = static_cast<int>(row);
  const auto c = static_cast<int>(col);
  if (op == regs::CMD_OP_VERIFY_READ) {
    const OpCost cost = core_.verify_cost();
    const sc_core::sc_time start = acquire(at, sc_core::sc_time(cost.latency_s, sc_core::SC_SEC));
    const double g = core_.verify_read(r, c, side, start.to_seconds());
    registers().set(regs::VERIFY_G_NSIEMENS,
                    static_cast<std::uint32_t>(std::lround(std::max(0.0, g) * 1000.0)));
    sat_op_ = -1;
    finish_start(cost, start, "verify_read");
    return true;
  }
  OpCost cost = core_.pulse_cost();
  const std::uint32_t width_ns = registers().get(regs::PROG_WIDTH_NS);
  if (width_ns !=
      0) {  // the width sets time and pulse energy; the device outcome does not depend on it
    const double scale = width_ns / p_.t_pulse_ns;
    cost.latency_s = width_ns * 1e-9;
    cost.energy_J[static_cast<std::size_t>(Phase::pulse)] *= scale;
  }
  const double v = registers().get(regs::PROG_VOLTAGE_MV) * 1e-3;
  const sc_core::sc_time start = acquire(at, sc_core::sc_time(cost.latency_s, sc_core::SC_SEC));
  if (op == regs::CMD_OP_SET_PULSE) {
    core_.pulse_set(r, c, side, v, start.to_seconds());
  } else {
    core_.pulse_reset(r, c, side, v, start.to_seconds());
  }
  sat_op_ = -1;
  finish_start(cost, start, op == regs::CMD_OP_SET_PULSE ? "set_pulse" : "reset_pulse");
  return true;
}

bool TileModule::decode_pcol(std::uint32_t pcol, Side* side, std::uint32_t* col) const {
  const auto C = static_cast<std::uint32_t>(core_.cols());
  if (pcol < C) {
    *side = Side::pos;
    *col = pcol;
  } else if (core_.mapping() == Mapping::differential && pcol < 2 * C) {
    *side = Side::neg;
    *col = pcol - C;
  } else if (core_.mapping() == Mapping::reference_column && pcol == C) {
    *side = Side::ref;
    *col = 0;
  } else {
    return false;
  }
  return true;
}

tlm::tlm_response_status TileModule::prog_check(const tlm::tlm_generic_payload& p, int* row,
                                                int* col, Side* side) const {
  const bool write = p.get_command() == tlm::TLM_WRITE_COMMAND;
  if (!write && p.get_command() != tlm::TLM_READ_COMMAND) return tlm::TLM_COMMAND_ERROR_RESPONSE;
  if (p.get_data_length() != 4 || p.get_streaming_width() != 4 ||
      p.get_byte_enable_ptr() != nullptr || p.get_data_ptr() == nullptr) {
    return tlm::TLM_BURST_ERROR_RESPONSE;
  }
  const std::uint64_t a = p.get_address();
  const auto r = static_cast<std::uint32_t>((a >> 16) & 0xFFFFU);
  const auto pcol = static_cast<std::uint32_t>(a & 0xFFFFU);
  const auto R = static_cast<std::uint32_t>(core_.rows());
  Side s = Side::pos;
  std::uint32_t c = 0;
  if (!decode_pcol(pcol, &s, &c)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  if ((a >> 32) != 0 || r >= R) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  if (write) {
    std::uint32_t w = 0;
    std::memcpy(&w, p.get_data_ptr(), 4);
    const std::uint32_t op = w >> prog::kOpShift;
    const std::uint32_t code = w & prog::kCodeMask;
    if ((w & prog::kReservedMask) != 0) return tlm::TLM_COMMAND_ERROR_RESPONSE;
    if (op == prog::kOpSet     ? code > prog::kGateMax
        : op == prog::kOpReset ? code > prog::kAmpMax
                               : true) {
      return tlm::TLM_COMMAND_ERROR_RESPONSE;
    }
  }
  *row = static_cast<int>(r);
  *col = static_cast<int>(c);
  *side = s;
  return tlm::TLM_OK_RESPONSE;
}

void TileModule::prog_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  join();
  int row = 0;
  int col = 0;
  Side side = Side::pos;
  const auto st = prog_check(p, &row, &col, &side);
  p.set_response_status(st);
  if (st != tlm::TLM_OK_RESPONSE) {
    ++prog_.errors;
    MP_LOG(log_, warn, "programming transaction refused (response {})", static_cast<int>(st));
    return;
  }
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const sc_core::sc_time at = now + delay;
  const bool write = p.get_command() == tlm::TLM_WRITE_COMMAND;
  std::uint32_t w = 0;
  if (write) std::memcpy(&w, p.get_data_ptr(), 4);
  const std::uint32_t op = w >> prog::kOpShift;
  const OpCost cost = write ? core_.pulse_cost() : core_.verify_cost();
  const sc_core::sc_time lat(cost.latency_s, sc_core::SC_SEC);
  const sc_core::sc_time start = acquire(at, lat);
  const sc_core::sc_time end = start + lat;
  prog_.wait += start - at;
  const double joules = cost.energy_total_J();
  prog_.energy_J += joules;
  const double t_end = end.to_seconds();
  if (!write) {
    const std::uint32_t code = prog::verify_code(core_.verify_read(row, col, side, t_end));
    std::memcpy(p.get_data_ptr(), &code, 4);
    ++prog_.n_verify;
    if (ledger_ != nullptr) ledger_->charge(e_prog_verify_, joules, 1);
  } else if (op == prog::kOpSet) {
    core_.pulse_set(row, col, side, prog::gate_volts(w & prog::kCodeMask), t_end);
    ++prog_.n_set;
    if (ledger_ != nullptr) ledger_->charge(e_prog_set_, joules, 1);
  } else {
    core_.pulse_reset(row, col, side, prog::amp_volts(w & prog::kCodeMask), t_end);
    ++prog_.n_reset;
    if (ledger_ != nullptr) ledger_->charge(e_prog_reset_, joules, 1);
  }
  if (probe().on()) {
    auto& tr = probe().tracer();
    tr.advance(sim::to_ps(now));
    tr.energy(name(), sim::to_ps(start), sim::to_ps(lat), joules);
  }
  delay = end - now;
}

tlm::tlm_response_status TileModule::window(const bus::WindowAccess& a) {
  if (a.window.offset == regs::PROFILE_OFFSET) {  // read-only (the base refuses writes)
    if (a.offset + a.len > profile_buf_.size() * sizeof(std::uint32_t))
      return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (!a.debug && busy_at(a.at)) return tlm::TLM_GENERIC_ERROR_RESPONSE;
    std::memcpy(a.data, reinterpret_cast<const unsigned char*>(profile_buf_.data()) + a.offset,
                a.len);
    return tlm::TLM_OK_RESPONSE;
  }
  auto& buf = a.window.offset == regs::INPUT_OFFSET ? in_buf_ : out_buf_;
  if (a.offset + a.len > buf.size() * sizeof(float))
    return tlm::TLM_ADDRESS_ERROR_RESPONSE;  // beyond BUF_VECTORS
  // The input is being consumed and the output filled while an operation runs: both
  // windows refuse access until it ends.
  if (!a.debug && busy_at(a.at)) {
    MP_LOG(log_, warn, "window {} access at {} while busy until {}", a.window.name,
           a.at.to_string(), op_end_.to_string());
    return tlm::TLM_GENERIC_ERROR_RESPONSE;
  }
  auto* bytes = reinterpret_cast<unsigned char*>(buf.data());
  if (a.write) {
    std::memcpy(bytes + a.offset, a.data, a.len);
  } else {
    std::memcpy(a.data, bytes + a.offset, a.len);
  }
  return tlm::TLM_OK_RESPONSE;
}

void TileModule::set_adc_fault_injection(double rate, std::vector<double> at_s,
                                         std::uint64_t seed) {
  adc_faults_ =
      memplast::FaultSchedule(rate, std::move(at_s), seed, std::string(name()) + ".adc_faults");
}

void TileModule::maybe_inject_adc(const sc_core::sc_time& start) {
  if (!adc_faults_.hit(start.to_seconds())) return;
  ++adc_injected_;
  const double u = adc_faults_.rng().uniform();
  MP_LOG(log_, info, "injected ADC saturation at {} (u = {})", start.to_string(), u);
  core_.inject_adc_saturation(u);
}

void TileModule::state_io(StateIO& io) {
  join();
  io.section("tile_module");
  registers_state_io(io);
  core_.state_io(io);
  io.vec("in_buf", in_buf_);
  io.vec("out_buf", out_buf_);
  io.value("buf_vectors", buf_vectors_);
  io.value("started", started_);
  if (p_.adc_range != "fixed") io.vec("profile_buf", profile_buf_);
  sim::time_io(io, "busy_until", busy_until_);
  sim::time_io(io, "op_start", op_start_);
  sim::time_io(io, "op_end", op_end_);
  irq_level_.state_io(io, name());
  // ADC saturation: the total always; the fault injection only where configured.
  io.value("adc_saturated", adc_saturated_);
  if (adc_faults_.configured()) {
    adc_faults_.state_io(io, "adc_fault_");
    io.value("adc_injected", adc_injected_);
  }
}

}  // namespace memplast::tile
