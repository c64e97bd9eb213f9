#include "pv/pv_ctrl.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "pv/pv_weight.hpp"
#include "sim/sc_support.hpp"
#include "sim/state_sc.hpp"

namespace memplast::pv {

namespace r = regs::pv_ctrl;

namespace {
std::uint32_t sat_add(std::uint32_t a, std::uint64_t b) {
  const std::uint64_t s = std::uint64_t{a} + b;
  return s > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                       : static_cast<std::uint32_t>(s);
}
}  // namespace

PvCtrl::PvCtrl(const sc_core::sc_module_name& name, const PvParams& p, const tile::TileParams& tp,
               const device::DeviceParams& dp, std::size_t n_tiles, const FaultParams& faults,
               std::uint64_t seed)
    : bus::Target(name, r::kRegisters, r::kWindows, sc_core::SC_ZERO_TIME),
      tile_socket("tile_socket", n_tiles),
      p_(p),
      faults_(faults),
      fault_rng_(seed, "pv_ctrl.faults"),
      tp_(tp),
      n_tiles_(n_tiles),
      calib_(dp, 1, 0),
      log_(this->name()) {
  if (n_tiles_ == 0)
    throw std::invalid_argument(fmt::format("{}: no tiles to program", this->name()));
  const auto n = static_cast<std::size_t>(tp_.rows) * static_cast<std::size_t>(tp_.cols);
  ref_col_ = tile::parse_mapping(tp_.mapping) == tile::Mapping::reference_column;
  // Devices per tile: the pair of each weight, or each weight's device and the R cells
  // of the reference column (writes_per_device).
  const std::size_t n_dev = ref_col_ ? n + static_cast<std::size_t>(tp_.rows) : 2 * n;
  for (std::size_t i = 0; i < n_tiles_; ++i) {
    writes_.emplace_back(n_dev, 0U);
    levels_.emplace_back(n, static_cast<std::int8_t>(-1));
    skip_.emplace_back(n, std::uint8_t{0});
  }
  std::sort(faults_.pv_fail_at_s.begin(), faults_.pv_fail_at_s.end());
  std::sort(faults_.queue_drop_at_s.begin(), faults_.queue_drop_at_s.end());
  if (tp_.levels > std::numeric_limits<std::int8_t>::max()) {
    throw std::invalid_argument(
        fmt::format("{}: {} levels, at most 127 supported", this->name(), tp_.levels));
  }
  queue_socket.register_b_transport(this, &PvCtrl::queue_transport);
  on_window(r::CMDQ_OFFSET, [this](const bus::WindowAccess& a) {
    if (a.debug) return tlm::TLM_COMMAND_ERROR_RESPONSE;  // a debug access pushes nothing
    return queue_access(a.data, a.len, a.write, a.at);
  });
  registers().set(r::QUEUE_DEPTH, static_cast<std::uint32_t>(p_.queue_depth));
  update_status();
  // A push is logically at the initiator's local time: the worker sees it from then.
  // The write check refuses a command out of range before it reaches the queue.
  on_write_check(r::CMD_PUSH, [this](std::uint32_t) {
    const auto err = check_command(registered_command());
    if (err.empty()) return tlm::TLM_OK_RESPONSE;
    MP_LOG(log_, warn, "CMD_PUSH refused: {} out of range", err);
    return tlm::TLM_COMMAND_ERROR_RESPONSE;
  });
  registers().on_write(r::CMD_PUSH, [this](std::uint32_t v, std::uint32_t) {
    PvCommand c = registered_command();
    c.force = (v & r::CMD_PUSH_FORCE_MASK) != 0;
    push(c, access_time(), /*count_drop=*/true);
  });
  // Failure log and skip marks (the firmware's recovery, docs/reliability.md).
  registers().on_write(r::FAIL_POP, [this](std::uint32_t, std::uint32_t) {
    if (!fail_log_.empty()) fail_log_.pop_front();
    update_fail_regs();
    update_status();
  });
  on_write_check(r::SKIP, [this](std::uint32_t) {
    PvCommand c = registered_command();
    c.level = 0;
    auto err = check_command(c);
    if (err.empty() && is_reference(c)) err = fmt::format("col {} (a reference cell)", c.col);
    if (err.empty()) return tlm::TLM_OK_RESPONSE;
    MP_LOG(log_, warn, "SKIP refused: {} out of range", err);
    return tlm::TLM_COMMAND_ERROR_RESPONSE;
  });
  registers().on_write(r::SKIP, [this](std::uint32_t v, std::uint32_t) {
    const PvCommand c = registered_command();
    skip_[c.tile][weight_index(c)] = (v & r::SKIP_MARK_MASK) != 0 ? 1 : 0;
  });
  registers().on_write(r::IRQ_STATUS, [this](std::uint32_t, std::uint32_t) { update_irq(); });
  registers().on_write(r::IRQ_ENABLE, [this](std::uint32_t, std::uint32_t) { update_irq(); });
  registers().on_write(r::CTRL, [this](std::uint32_t v, std::uint32_t) {
    if ((v & r::CTRL_CLEAR_MASK) != 0) clear_counters();
  });
  SC_THREAD(run);
}

void PvCtrl::set_loop(std::unique_ptr<PvLoop> loop) {
  if (loop && calib_.params().ideal) {
    throw cfg::ConfigError(
        "key 'rtl.pv': the RTL pv_fsm has no ideal-device mode (a first pulse calibrated from "
        "the nominal device laws); it needs non-ideal devices (train.device_effects = true, "
        "device.ideal = false)");
  }
  loop_ = std::move(loop);
}

std::string PvCtrl::check_command(const PvCommand& c) const {
  if (c.tile >= n_tiles_) return fmt::format("tile {} (of {})", c.tile, n_tiles_);
  if (c.row >= static_cast<std::uint64_t>(tp_.rows))
    return fmt::format("row {} (of {})", c.row, tp_.rows);
  if (c.col >= static_cast<std::uint64_t>(tp_.cols) + (ref_col_ ? 1U : 0U))
    return fmt::format("col {} (of {}{})", c.col, tp_.cols, ref_col_ ? " + reference" : "");
  if (c.level >= static_cast<std::uint64_t>(tp_.levels)) {
    return fmt::format("level {} (of {})", c.level, tp_.levels);
  }
  return {};
}

PvCommand PvCtrl::registered_command() const {
  return {bank().get(r::CMD_TILE), bank().get(r::CMD_ROW), bank().get(r::CMD_COL),
          bank().get(r::CMD_LEVEL)};
}

bool PvCtrl::full() const { return queue_.size() >= static_cast<std::size_t>(p_.queue_depth); }

bool PvCtrl::inject(double rate, const std::vector<double>& at_s, std::size_t& next,
                    const sc_core::sc_time& t) {
  bool hit = false;
  if (rate > 0 && fault_rng_.uniform() < rate) hit = true;
  if (next < at_s.size() && t.to_seconds() >= at_s[next]) {
    while (next < at_s.size() && t.to_seconds() >= at_s[next]) ++next;
    hit = true;
  }
  return hit;
}

void PvCtrl::log_failure(const PvCommand& c, std::uint32_t cause) {
  if (fail_log_.size() >= kFailLogDepth) {
    ++stats_.fail_log_lost;
    registers().set(r::CNT_FAIL_LOST, sat_add(registers().get(r::CNT_FAIL_LOST), 1));
    return;
  }
  fail_log_.push_back({c.tile, c.row, c.col, cause});
  update_fail_regs();
}

void PvCtrl::update_fail_regs() {
  registers().set(r::FAIL_COUNT, static_cast<std::uint32_t>(fail_log_.size()));
  const FailEntry head = fail_log_.empty() ? FailEntry{} : fail_log_.front();
  registers().set(r::FAIL_TILE, head.tile);
  registers().set(r::FAIL_ROW, head.row);
  registers().set(r::FAIL_COL, head.col);
  registers().set(r::FAIL_CAUSE, head.cause);
}

bool PvCtrl::push(const PvCommand& c, const sc_core::sc_time& arrival, bool count_drop) {
  if (full()) {
    if (count_drop) {
      ++stats_.dropped;
      registers().set(r::CNT_DROPPED, sat_add(registers().get(r::CNT_DROPPED), 1));
      MP_LOG(log_, debug, "queue full ({}): dropped tile {} row {} col {} level {}", queue_.size(),
             c.tile, c.row, c.col, c.level);
      log_failure(c, r::FAIL_CAUSE_CAUSE_DROPPED);
      raise(r::IRQ_STATUS_OVERFLOW_MASK);
      update_status();
    }
    return false;
  }
  // Injected overflow: the command is lost as a full queue would lose it; the producer
  // is not told (it saw room), the firmware learns it from the failure log.
  if (inject(faults_.queue_drop_rate, faults_.queue_drop_at_s, drop_next_, arrival)) {
    ++stats_.dropped;
    ++stats_.injected_drops;
    registers().set(r::CNT_DROPPED, sat_add(registers().get(r::CNT_DROPPED), 1));
    MP_LOG(log_, info, "injected queue overflow: lost tile {} row {} col {} level {}", c.tile,
           c.row, c.col, c.level);
    log_failure(c, r::FAIL_CAUSE_CAUSE_DROPPED);
    raise(r::IRQ_STATUS_OVERFLOW_MASK);
    update_status();
    return true;
  }
  queue_.push_back({c, arrival});
  stats_.max_queue = std::max<std::uint64_t>(stats_.max_queue, queue_.size());
  update_status();
  if (probe().on()) trace_queue(std::max(arrival, sc_core::sc_time_stamp()));
  push_ev_.notify(sc_core::SC_ZERO_TIME);
  return true;
}

tlm::tlm_response_status PvCtrl::queue_access(const unsigned char* data, unsigned len, bool write,
                                              const sc_core::sc_time& at) {
  if (!write) return tlm::TLM_COMMAND_ERROR_RESPONSE;
  if (len != 8) return tlm::TLM_BURST_ERROR_RESPONSE;
  std::uint32_t w[2] = {0, 0};
  std::memcpy(w, data, 8);
  const PvCommand c{w[0] >> 16, w[0] & 0xFFFFU, w[1] & 0xFFFFU, w[1] >> 16};
  const auto err = check_command(c);
  if (!err.empty()) {
    MP_LOG(log_, warn, "queue port: command refused: {} out of range", err);
    return tlm::TLM_COMMAND_ERROR_RESPONSE;
  }
  if (full()) {
    ++stats_.refused;
    space_pending_ = true;
    sim::drive(space_out, false);
    return tlm::TLM_GENERIC_ERROR_RESPONSE;
  }
  push(c, at, /*count_drop=*/false);
  return tlm::TLM_OK_RESPONSE;
}

void PvCtrl::queue_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  tlm::tlm_response_status st = tlm::TLM_OK_RESPONSE;
  if (p.get_command() != tlm::TLM_WRITE_COMMAND) {
    st = tlm::TLM_COMMAND_ERROR_RESPONSE;
  } else if (p.get_address() != 0) {
    st = tlm::TLM_ADDRESS_ERROR_RESPONSE;
  } else if (p.get_byte_enable_ptr() != nullptr || p.get_streaming_width() != p.get_data_length()) {
    st = tlm::TLM_BURST_ERROR_RESPONSE;
  } else {
    st =
        queue_access(p.get_data_ptr(), p.get_data_length(), true, sc_core::sc_time_stamp() + delay);
  }
  p.set_response_status(st);
}

bool PvCtrl::try_push(const PvCommand& c) {
  const auto err = check_command(c);
  if (!err.empty())
    throw std::invalid_argument(fmt::format("{}: command out of range: {}", name(), err));
  return push(c, sc_core::sc_time_stamp(), true);
}

bool PvCtrl::offer(const PvCommand& c) {
  const auto err = check_command(c);
  if (!err.empty())
    throw std::invalid_argument(fmt::format("{}: command out of range: {}", name(), err));
  return push(c, sc_core::sc_time_stamp(), false);
}

int PvCtrl::level_of(std::size_t tile, int row, int col) const {
  return levels_.at(tile).at(static_cast<std::size_t>(row) * static_cast<std::size_t>(tp_.cols) +
                             static_cast<std::size_t>(col));
}

void PvCtrl::update_status() {
  std::uint32_t s = registers().get(r::STATUS) & r::STATUS_FAIL_MASK;
  if (busy_) s |= r::STATUS_BUSY_MASK;
  if (!fail_log_.empty()) s |= r::STATUS_FAIL_PENDING_MASK;
  if (full()) s |= r::STATUS_QUEUE_FULL_MASK;
  if (queue_.empty()) s |= r::STATUS_QUEUE_EMPTY_MASK;
  registers().set(r::STATUS, s);
  registers().set(r::QUEUE_COUNT, static_cast<std::uint32_t>(queue_.size()));
  depth_sig_.write(static_cast<std::uint32_t>(queue_.size()));
}

void PvCtrl::raise(std::uint32_t irq_bits) {
  registers().set_bits(r::IRQ_STATUS, irq_bits);
  update_irq();
}

void PvCtrl::update_irq() {
  const bool level = (registers().get(r::IRQ_STATUS) & registers().get(r::IRQ_ENABLE)) != 0;
  if (irq_level_.update(irq_out, level)) MP_LOG(log_, debug, "irq {}", level ? 1 : 0);
}

void PvCtrl::clear_counters() {
  for (auto reg :
       {r::CNT_PROGRAMMED, r::CNT_FAILED, r::CNT_PULSES, r::CNT_DROPPED, r::CNT_DEVICE_WRITES}) {
    registers().set(reg, 0);
  }
  registers().set(r::CNT_SKIPPED, 0);
  registers().set(r::CNT_FAIL_LOST, 0);
  registers().clear_bits(r::STATUS, r::STATUS_FAIL_MASK);
}

void PvCtrl::trace_queue(const sc_core::sc_time& at) {
  probe().tracer().sample("pv_queue_depth", sim::to_ps(at), static_cast<double>(queue_.size()));
}

void PvCtrl::trace_command_start(const sc_core::sc_time& t0) {
  trace_queue(t0);
  if (in_batch_) return;
  in_batch_ = true;
  batch0_ = stats_;
  probe().tracer().begin(probe().track(), "pv_batch", "pv", sim::to_ps(t0));
}

void PvCtrl::trace_batch_end() {
  in_batch_ = false;
  trace::Args a;
  a.add("commands", stats_.commands - batch0_.commands)
      .add("devices", stats_.device_writes - batch0_.device_writes)
      .add("pulses", stats_.pulses() - batch0_.pulses())
      .add("verifies", stats_.n_verify - batch0_.n_verify)
      .add("failed", stats_.failed - batch0_.failed);
  probe().tracer().end(probe().track(), sim::to_ps(sc_core::sc_time_stamp()), a);
}

std::uint32_t PvCtrl::prog(std::uint32_t t, tlm::tlm_command cmd, std::uint64_t addr,
                           std::uint32_t word) {
  tlm::tlm_generic_payload& gp = prog_gp_;
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&word));
  gp.set_data_length(4);
  gp.set_streaming_width(4);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  tile_socket[t]->b_transport(gp, delay);
  if (!gp.is_response_ok()) {
    throw std::logic_error(fmt::format("{}: tile {} refused programming transaction at 0x{:x}: {}",
                                       name(), t, addr, gp.get_response_string()));
  }
  if (p_.f_clk_MHz > 0) {  // pv.f_clk_MHz: the ack is seen at the next clock edge
    const sc_core::sc_time clk = sim::cycles(1, p_.f_clk_MHz);
    delay = clk * std::ceil(delay / clk - 1e-9);
  }
  wait(delay);
  return word;
}

PvResult PvCtrl::program_device(const PvCommand& c, tile::Side side, double target_uS,
                                const PvBand& band) {
  namespace pc = tile::prog;
  // Physical column on the programming port: G+ (or the only device) at col, G- at
  // C + col, the reference cell at C (is_reference: c.col == C already).
  const std::uint32_t pcol =
      c.col + (side == tile::Side::neg ? static_cast<std::uint32_t>(tp_.cols) : 0U);
  const std::uint64_t addr = pc::address(c.row, pcol);
  PvDeviceRecord rec;
  rec.cmd = c;
  rec.side = side;
  rec.target_uS = target_uS;
  rec.band = band;
  rec.start = sc_core::sc_time_stamp();
  if (loop_) {
    // The RTL controller: its pin-level requests become the same programming-port
    // transactions as PvFsm's actions below.
    rec.result = loop_->run(
        band, PvFsm::set_start_code(p_, calib_.gate_for(target_uS)),
        static_cast<std::uint32_t>(addr), [&](PvLoop::Op op, std::uint32_t dac) -> std::uint32_t {
          if (op == PvLoop::Op::verify)
            return prog(c.tile, tlm::TLM_READ_COMMAND, addr, 0) & pc::kCodeMask;
          prog(c.tile, tlm::TLM_WRITE_COMMAND, addr,
               pc::pulse_word(op == PvLoop::Op::set ? pc::kOpSet : pc::kOpReset, dac));
          return 0;
        });
  } else {
    PvFsm fsm(p_, band, calib_.gate_for(target_uS), ideal_or_null(calib_));
    for (;;) {
      const std::uint32_t code = prog(c.tile, tlm::TLM_READ_COMMAND, addr, 0) & pc::kCodeMask;
      const PvFsm::Action a = fsm.on_verify_code(code);
      if (a.kind == PvFsm::Kind::set) {
        prog(c.tile, tlm::TLM_WRITE_COMMAND, addr, pc::pulse_word(pc::kOpSet, a.code));
      } else if (a.kind == PvFsm::Kind::reset) {
        prog(c.tile, tlm::TLM_WRITE_COMMAND, addr, pc::pulse_word(pc::kOpReset, a.code));
      } else {
        break;
      }
    }
    rec.result = fsm.result();
  }
  rec.end = sc_core::sc_time_stamp();
  if (inject(faults_.pv_fail_rate, faults_.pv_fail_at_s, pv_fail_next_, rec.end) &&
      rec.result.success) {
    rec.result.success = false;
    ++stats_.injected_pv_failures;
    MP_LOG(log_, info, "injected P&V failure: tile {} row {} col {}", c.tile, c.row, c.col);
  }
  const auto& res = rec.result;
  ++stats_.device_writes;
  stats_.device_failures += res.success ? 0 : 1;
  stats_.n_set += static_cast<std::uint64_t>(res.n_set);
  stats_.n_reset += static_cast<std::uint64_t>(res.n_reset);
  stats_.n_verify += static_cast<std::uint64_t>(res.n_verify);
  registers().set(r::CNT_PULSES, sat_add(registers().get(r::CNT_PULSES),
                                         static_cast<std::uint64_t>(res.n_set + res.n_reset)));
  registers().set(r::CNT_DEVICE_WRITES, sat_add(registers().get(r::CNT_DEVICE_WRITES), 1));
  auto& w = writes_[c.tile][device_slot(c, side)];
  if (w < std::numeric_limits<std::uint32_t>::max()) ++w;
  MP_LOG(log_, debug, "tile {} row {} col {} {} -> {:.2f} uS: {} after {} pulses, g {:.2f}", c.tile,
         c.row, c.col,
         side == tile::Side::pos   ? "pos"
         : side == tile::Side::neg ? "neg"
                                   : "ref",
         target_uS, res.success ? "ok" : "FAIL", res.iterations, res.g_final_uS);
  if (record_cb_) record_cb_(rec);
  return res;
}

std::size_t PvCtrl::device_slot(const PvCommand& c, tile::Side side) const {
  const auto n = static_cast<std::size_t>(tp_.rows) * static_cast<std::size_t>(tp_.cols);
  if (side == tile::Side::ref) return n + static_cast<std::size_t>(c.row);
  const std::size_t cell = weight_index(c);
  if (ref_col_) return cell;
  return 2 * cell + (side == tile::Side::pos ? 0U : 1U);
}

void PvCtrl::execute(const PvCommand& c) {
  if (is_reference(c)) {
    execute_reference(c);
    return;
  }
  const int level = static_cast<int>(c.level);
  const std::size_t idx = static_cast<std::size_t>(c.row) * static_cast<std::size_t>(tp_.cols) +
                          static_cast<std::size_t>(c.col);
  if (skip_[c.tile][idx] != 0) {  // marked skipped by the firmware: discarded
    ++stats_.skipped;
    registers().set(r::CNT_SKIPPED, sat_add(registers().get(r::CNT_SKIPPED), 1));
    return;
  }
  if (c.force) ++stats_.forced;
  const auto plan = plan_weight_write(tp_, c.force ? -1 : levels_[c.tile][idx], level, p_);
  const PvCtrlStats before = stats_;
  if (probe().on()) {
    trace::Args a;
    a.add("tile", c.tile).add("row", c.row).add("col", c.col).add("level", c.level);
    probe().tracer().begin(probe().track(), "pv_command", "pv",
                           sim::to_ps(sc_core::sc_time_stamp()), a);
  }
  bool ok = true;
  int iterations = 0;
  for (int k = 0; k < plan.count; ++k) {
    const auto& d = plan.devices[static_cast<std::size_t>(k)];
    const PvResult res = program_device(c, d.side, d.target_uS, d.band);
    iterations += res.iterations;
    ok = res.success && ok;
  }
  if (probe().on()) {
    trace::Args a;
    a.add("devices", plan.count)
        .add("iterations", iterations)
        .add("verifies", stats_.n_verify - before.n_verify)
        .add("set_pulses", stats_.n_set - before.n_set)
        .add("reset_pulses", stats_.n_reset - before.n_reset)
        .add("pass", ok);
    auto& tr = probe().tracer();
    const auto now = sim::to_ps(sc_core::sc_time_stamp());
    tr.advance(now);
    tr.end(probe().track(), now, a);
  }
  levels_[c.tile][idx] = static_cast<std::int8_t>(level);
  complete(c, ok);
}

void PvCtrl::execute_reference(const PvCommand& c) {
  const DeviceWrite d = plan_reference_write(tp_, p_);
  if (c.force) ++stats_.forced;
  const PvCtrlStats before = stats_;
  if (probe().on()) {
    trace::Args a;
    a.add("tile", c.tile).add("row", c.row).add("col", c.col).add("reference", true);
    probe().tracer().begin(probe().track(), "pv_command", "pv",
                           sim::to_ps(sc_core::sc_time_stamp()), a);
  }
  const PvResult res = program_device(c, d.side, d.target_uS, d.band);
  if (probe().on()) {
    trace::Args a;
    a.add("devices", 1)
        .add("iterations", res.iterations)
        .add("verifies", stats_.n_verify - before.n_verify)
        .add("set_pulses", stats_.n_set - before.n_set)
        .add("reset_pulses", stats_.n_reset - before.n_reset)
        .add("pass", res.success);
    auto& tr = probe().tracer();
    const auto now = sim::to_ps(sc_core::sc_time_stamp());
    tr.advance(now);
    tr.end(probe().track(), now, a);
  }
  complete(c, res.success);
}

void PvCtrl::complete(const PvCommand& c, bool ok) {
  ++stats_.commands;
  if (ok) {
    ++stats_.programmed;
    registers().set(r::CNT_PROGRAMMED, sat_add(registers().get(r::CNT_PROGRAMMED), 1));
    return;
  }
  ++stats_.failed;
  registers().set(r::CNT_FAILED, sat_add(registers().get(r::CNT_FAILED), 1));
  registers().set(r::LAST_FAIL_TILE, c.tile);
  registers().set(r::LAST_FAIL_ROW, c.row);
  registers().set(r::LAST_FAIL_COL, c.col);
  registers().set(r::LAST_FAIL_LEVEL, c.level);
  registers().set_bits(r::STATUS, r::STATUS_FAIL_MASK);
  MP_LOG(log_, debug, "program-and-verify failed: tile {} row {} col {} level {}", c.tile, c.row,
         c.col, c.level);
  log_failure(c, r::FAIL_CAUSE_CAUSE_PV_FAILED);
  raise(r::IRQ_STATUS_FAIL_MASK);
}

void PvCtrl::run() {
  for (;;) {
    while (queue_.empty()) wait(push_ev_);
    const Entry e = queue_.front();
    if (e.arrival > sc_core::sc_time_stamp()) wait(e.arrival - sc_core::sc_time_stamp());
    // pv.f_clk_MHz > 0: a command that was not queued before the last one ended (it
    // arrived at or after that end, a tie included, whichever delta cycle pushed it) found
    // the controller idle: the queue write and the pop take their cycles first, as the
    // RTL pv_fsm's IDLE -> VERIFY (docs/cosim.md). The functional mode's pv_start alike.
    const bool idle = e.arrival >= free_at_;
    if (idle && p_.f_clk_MHz > 0) wait(sim::cycles(pv::kIdleStartCycles, p_.f_clk_MHz));
    queue_.pop_front();
    busy_ = true;
    busy_sig_.write(true);
    update_status();
    space_ev_.notify(sc_core::SC_ZERO_TIME);
    if (space_pending_) {
      space_pending_ = false;
      sim::drive(space_out, true);
    }
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    if (probe().on()) trace_command_start(t0);
    execute(e.cmd);
    free_at_ = sc_core::sc_time_stamp();
    stats_.busy += sc_core::sc_time_stamp() - t0;
    busy_ = false;
    busy_sig_.write(false);
    update_status();
    if (queue_.empty()) {
      idle_ev_.notify(sc_core::SC_ZERO_TIME);
      raise(r::IRQ_STATUS_EMPTY_MASK);
      if (probe().on()) trace_batch_end();
    }
  }
}

namespace {
void stats_io(StateIO& io, PvCtrlStats& s) {
  io.value("commands", s.commands);
  io.value("programmed", s.programmed);
  io.value("failed", s.failed);
  io.value("device_writes", s.device_writes);
  io.value("device_failures", s.device_failures);
  io.value("n_set", s.n_set);
  io.value("n_reset", s.n_reset);
  io.value("n_verify", s.n_verify);
  io.value("dropped", s.dropped);
  io.value("max_queue", s.max_queue);
  io.value("refused", s.refused);
  sim::time_io(io, "busy", s.busy);
  io.value("injected_pv_failures", s.injected_pv_failures);
  io.value("injected_drops", s.injected_drops);
  io.value("skipped", s.skipped);
  io.value("forced", s.forced);
  io.value("fail_log_lost", s.fail_log_lost);
}
}  // namespace

void PvCtrl::state_io(StateIO& io) {
  io.section("pv_ctrl");
  if (!idle()) throw std::runtime_error(io.origin() + ": pv_ctrl is not idle at the checkpoint");
  registers_state_io(io);
  stats_io(io, stats_);
  stats_io(io, batch0_);
  io.value("in_batch", in_batch_);
  for (auto& w : writes_) io.vec("writes", w);
  for (auto& l : levels_) io.vec("levels", l);
  for (auto& k : skip_) io.vec("skip", k);
  io.rng("fault_rng", fault_rng_);
  auto pv_next = static_cast<std::uint64_t>(pv_fail_next_);
  auto drop_next = static_cast<std::uint64_t>(drop_next_);
  io.value("pv_fail_next", pv_next);
  io.value("drop_next", drop_next);
  pv_fail_next_ = static_cast<std::size_t>(pv_next);
  drop_next_ = static_cast<std::size_t>(drop_next);
  std::vector<std::uint32_t> log;
  for (const auto& e : fail_log_) log.insert(log.end(), {e.tile, e.row, e.col, e.cause});
  io.vec("fail_log", log, false);
  if (io.reading()) {
    fail_log_.clear();
    for (std::size_t i = 0; i + 3 < log.size(); i += 4)
      fail_log_.push_back({log[i], log[i + 1], log[i + 2], log[i + 3]});
  }
  irq_level_.state_io(io, "pv_ctrl");
}

}  // namespace memplast::pv
