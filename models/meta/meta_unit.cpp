#include "meta/meta_unit.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "bus/gen/regs.hpp"
#include "sim/sc_support.hpp"
#include "sim/state_sc.hpp"

namespace memplast::meta {

namespace R = regs::meta_unit;

MetaUnit::MetaUnit(const sc_core::sc_module_name& name, const MetaParams& p, std::size_t n_weights,
                   std::uint64_t global_seed, double init_half_range, EnergyLedger* ledger,
                   std::unique_ptr<MetaEngine> engine)
    : bus::Target(name, R::kRegisters, R::kWindows, sim::cycles(1, p.f_clk_MHz)),
      p_(p),
      n_(n_weights),
      engine_(engine ? std::move(engine) : make_engine(p, n_weights)),
      ledger_(ledger),
      log_(this->name()),
      clk_(sim::cycles(1, p.f_clk_MHz)),
      grad_raw_(n_weights, 0U),
      grad_(n_weights, 0.0F) {
  if (n_weights * 4 > R::GRAD_SIZE) {
    throw cfg::ConfigError(
        fmt::format("{}: {} weights exceed the {}-byte GRAD window of the register map",
                    this->name(), n_weights, R::GRAD_SIZE));
  }
  if (engine_->size() != n_weights) {
    throw std::invalid_argument(fmt::format("{}: engine of {} weights, the unit has {}",
                                            this->name(), engine_->size(), n_weights));
  }
  Rng rng(global_seed, std::string(this->name()) + ".init");
  engine_->init_uniform(rng, init_half_range);
  if (ledger_ != nullptr) {
    e_acc_ = ledger_->entry(this->name(), "accumulate");
    e_update_ = ledger_->entry(this->name(), "update");
    e_sram_ = ledger_->entry(this->name(), "sram");
    e_pv_cmd_ = ledger_->entry(this->name(), "pv_cmd");
    e_queue_full_ = ledger_->row_entry(this->name(), "queue_full_wait");
  }
  registers().set(R::N_WEIGHTS, static_cast<std::uint32_t>(n_weights));
  registers().set(
      R::FORMAT,
      ((static_cast<std::uint32_t>(p.levels) << R::FORMAT_N_LEVELS_SHIFT) &
       R::FORMAT_N_LEVELS_MASK) |
          ((static_cast<std::uint32_t>(p.hidden_frac_bits) << R::FORMAT_HIDDEN_FRAC_BITS_SHIFT) &
           R::FORMAT_HIDDEN_FRAC_BITS_MASK) |
          ((static_cast<std::uint32_t>(p.hidden_bits) << R::FORMAT_HIDDEN_BITS_SHIFT) &
           R::FORMAT_HIDDEN_BITS_MASK));
  registers().on_write(R::CMD,
                       [this](std::uint32_t v, std::uint32_t) { on_cmd(v, access_time()); });
  registers().on_read(R::STATUS, [this](std::uint32_t) {
    std::uint32_t s = registers().get(R::STATUS) & R::STATUS_ERROR_MASK;
    if (busy_at(access_time())) s |= R::STATUS_BUSY_MASK;
    if (stalled_) s |= R::STATUS_STALLED_MASK;
    return s;
  });
  registers().on_write(R::IRQ_STATUS, [this](std::uint32_t, std::uint32_t) { update_irq(); });
  registers().on_write(R::IRQ_ENABLE, [this](std::uint32_t, std::uint32_t) { update_irq(); });
  const auto handler = [this](const bus::WindowAccess& a) { return window(a); };
  for (const auto& w : R::kWindows) on_window(w.offset, handler);
  SC_THREAD(worker);
}

const char* MetaUnit::op_name(std::uint32_t op) {
  switch (op) {
    case R::CMD_OP_ACCUMULATE: return "accumulate";
    case R::CMD_OP_STEP: return "step";
    case R::CMD_OP_NEW_TASK: return "new_task";
    default: return "clear_acc";
  }
}

bool MetaUnit::irq() const { return (bank().get(R::IRQ_STATUS) & bank().get(R::IRQ_ENABLE)) != 0; }

void MetaUnit::update_irq() { irq_level_.update(irq_out, irq()); }

bool MetaUnit::busy_at(const sc_core::sc_time& at) const {
  if (!running_) return false;
  if (!end_known_) return true;
  return at < op_end_;
}

void MetaUnit::reject(const char* why) {
  MP_LOG(log_, warn, "command rejected: {}", why);
  registers().set_bits(R::STATUS, R::STATUS_ERROR_MASK);
  registers().set_bits(R::IRQ_STATUS, R::IRQ_STATUS_ERROR_MASK);
  update_irq();
}

void MetaUnit::on_cmd(std::uint32_t value, const sc_core::sc_time& at) {
  const std::uint32_t op = regs::get_field(value, R::CMD_OP_MASK, R::CMD_OP_SHIFT);
  if (busy_at(at)) return reject("started while busy");
  if (op < R::CMD_OP_ACCUMULATE || op > R::CMD_OP_CLEAR_ACC) return reject("bad OP");
  if (registers().get(R::N_WEIGHTS) != n_)
    return reject("N_WEIGHTS differs from the unit's weight count");
  if (op == R::CMD_OP_STEP && registers().get(R::BATCH) == 0) return reject("BATCH is 0");
  registers().clear_bits(R::STATUS, R::STATUS_ERROR_MASK);
  op_ = op;
  running_ = true;
  op_start_ = at;
  const std::uint64_t n = n_;
  // STEP may stall on the sink: its end is known only when it finishes.
  end_known_ = op != R::CMD_OP_STEP;
  const std::uint64_t cyc = (op == R::CMD_OP_NEW_TASK || op == R::CMD_OP_CLEAR_ACC)
                                ? sweep_cycles(p_, n)
                                : op_cycles(p_, n);
  op_end_ = at + clk_ * static_cast<double>(cyc);
  start_ev_.notify(at - sc_core::sc_time_stamp());
}

void MetaUnit::set_pv_target(std::uint64_t address, double energy_J) {
  pv_addr_ = address;
  pv_cmd_J_ = energy_J;
}

void MetaUnit::set_cell_map(std::vector<std::uint64_t> map) {
  if (!map.empty() && map.size() != n_) {
    throw std::invalid_argument(
        fmt::format("{}: cell map of {} weights, the unit has {}", name(), map.size(), n_));
  }
  cell_map_ = std::move(map);
}

bool MetaUnit::send(const ProgramCommand& c) {
  const std::uint64_t cell = cell_map_.empty()
                                 ? ((std::uint64_t{c.weight} >> 16) << 16) | (c.weight & 0xFFFFU)
                                 : cell_map_.at(c.weight);
  const auto tile = static_cast<std::uint32_t>(cell >> 32);
  const auto row = static_cast<std::uint32_t>((cell >> 16) & 0xFFFFU);
  const auto col = static_cast<std::uint32_t>(cell & 0xFFFFU);
  std::uint32_t w[2] = {(tile << 16) | row,
                        (static_cast<std::uint32_t>(c.level & 0xFFFF) << 16) | col};
  tlm::tlm_generic_payload& gp = pv_gp_;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(pv_addr_);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(w));
  gp.set_data_length(8);
  gp.set_streaming_width(8);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  pv_socket->b_transport(gp, delay);
  if (ledger_ != nullptr && pv_cmd_J_ > 0) ledger_->charge(e_pv_cmd_, pv_cmd_J_, 1);
  if (gp.get_response_status() == tlm::TLM_GENERIC_ERROR_RESPONSE) return false;  // queue full
  if (!gp.is_response_ok()) {
    throw std::logic_error(fmt::format("{}: pv_ctrl refused command for weight {} level {}: {}",
                                       name(), c.weight, c.level, gp.get_response_string()));
  }
  if (delay > sc_core::SC_ZERO_TIME) wait(delay);
  return true;
}

void MetaUnit::worker() {
  for (;;) {
    wait(start_ev_);
    const std::uint64_t n = n_;
    double joules = 0;  // this operation's energy, for the trace's power counter
    const auto charge = [&](EnergyLedger::Id id, double j, std::uint64_t count) {
      ledger_->charge(id, j, count);
      joules += j;
    };
    const auto charge_sram = [&](double acc) {
      charge(e_sram_, p_.e_sram_access_pJ * 1e-12 * acc,
             static_cast<std::uint64_t>(std::ceil(acc)));
    };
    // The operation's energy spread over its nominal (stall-free) duration.
    const auto trace_energy = [&] {
      if (probe().on() && joules > 0) {
        probe().tracer().energy(name(), sim::to_ps(op_start_), sim::to_ps(op_end_ - op_start_),
                                joules);
      }
    };
    if (probe().on()) {
      auto& tr = probe().tracer();
      tr.advance(sim::to_ps(sc_core::sc_time_stamp()));
      trace::Args a;
      a.add("weights", n);
      tr.begin(probe().track(), op_name(op_), "meta", sim::to_ps(op_start_), a);
    }
    stalled_ = false;
    busy_sig_.write(true);
    if (op_ == R::CMD_OP_ACCUMULATE) {
      const bool fixed =
          regs::get_field(registers().get(R::CONFIG), R::CONFIG_GRAD_FMT_MASK,
                          R::CONFIG_GRAD_FMT_SHIFT) == R::CONFIG_GRAD_FMT_FIXED_S15_16;
      if (fixed) {
        for (std::size_t i = 0; i < n_; ++i) {
          grad_[i] =
              static_cast<float>(static_cast<std::int32_t>(grad_raw_[i])) * (1.0F / 65536.0F);
        }
      } else {
        std::memcpy(grad_.data(), grad_raw_.data(), n_ * sizeof(float));
      }
      engine_->accumulate(grad_.data(), n_);
      if (ledger_ != nullptr) {
        charge(e_acc_, p_.e_accumulate_pJ * 1e-12 * static_cast<double>(n), n);
        charge_sram(sram_accesses_accumulate(p_, n));
      }
      trace_energy();
      wait(op_end_ - sc_core::sc_time_stamp());
    } else if (op_ == R::CMD_OP_STEP) {
      engine_->set_batch_divisor(registers().get(R::BATCH));
      changes_.clear();
      engine_->step(changes_);
      if (ledger_ != nullptr) {
        charge(e_update_, p_.e_update_pJ * 1e-12 * static_cast<double>(n), n);
        charge_sram(sram_accesses_step(p_, n));
      }
      trace_energy();
      // Push the changes in index order as they leave the pipeline; a full sink
      // freezes the pipeline (STATUS.STALLED) until it has room.
      sc_core::sc_time stall = sc_core::SC_ZERO_TIME;
      for (const auto& c : changes_) {
        const sc_core::sc_time ready =
            op_start_ + clk_ * static_cast<double>(ready_cycle(p_, c.index)) + stall;
        if (ready > sc_core::sc_time_stamp()) wait(ready - sc_core::sc_time_stamp());
        if (pv_socket.size() > 0) {
          while (!send({c.index, c.level})) {
            stalled_ = true;
            stalled_sig_.write(true);
            const sc_core::sc_time t0 = sc_core::sc_time_stamp();
            // The refusal drove the space line low: let it settle, then wait until
            // pv_ctrl raises it (a command left the queue).
            wait(sc_core::SC_ZERO_TIME);
            while (!sim::level(pv_space_in)) wait(pv_space_in->value_changed_event());
            const sc_core::sc_time waited = sc_core::sc_time_stamp() - t0;
            stall += waited;
            if (ledger_ != nullptr && waited > sc_core::SC_ZERO_TIME)
              ledger_->charge_rows(e_queue_full_, 0.0, 1, waited.to_seconds());
          }
          stalled_ = false;
          stalled_sig_.write(false);
        }
        ++commands_sent_;
      }
      stall_total_ += stall;
      stall_last_ = stall;
      op_end_ = std::max(op_start_ + clk_ * static_cast<double>(op_cycles(p_, n)) + stall,
                         sc_core::sc_time_stamp());  // the last transfer may end later
      end_known_ = true;
      registers().set(R::CHANGES_COUNT, static_cast<std::uint32_t>(changes_.size()));
      if (op_end_ > sc_core::sc_time_stamp()) wait(op_end_ - sc_core::sc_time_stamp());
    } else if (op_ == R::CMD_OP_NEW_TASK) {
      engine_->new_task();
      registers().set(R::TASK, registers().get(R::TASK) + 1);
      if (ledger_ != nullptr) {
        charge_sram(sram_accesses_new_task(p_, n));
      }
      trace_energy();
      wait(op_end_ - sc_core::sc_time_stamp());
    } else {  // CLEAR_ACC
      engine_->clear_accumulator();
      if (ledger_ != nullptr) {
        charge_sram(sram_accesses_clear_acc(p_, n));
      }
      trace_energy();
      wait(op_end_ - sc_core::sc_time_stamp());
    }
    if (probe().on()) {
      trace::Args a;
      if (op_ == R::CMD_OP_STEP) {
        a.add("level_changes", changes_.size())
            .add("stall_cycles", static_cast<std::uint64_t>(std::llround(stall_last_ / clk_)));
      }
      auto& tr = probe().tracer();
      const auto now = sim::to_ps(sc_core::sc_time_stamp());
      tr.advance(now);
      tr.end(probe().track(), now, a);
    }
    busy_sig_.write(false);
    finish();
  }
}

void MetaUnit::finish() {
  const auto cycles = static_cast<std::uint64_t>(std::llround((op_end_ - op_start_) / clk_));
  registers().set(R::CYCLES_LAST,
                  static_cast<std::uint32_t>(std::min<std::uint64_t>(cycles, 0xFFFFFFFFU)));
  running_ = false;
  registers().set_bits(R::IRQ_STATUS, R::IRQ_STATUS_DONE_MASK);
  MP_LOG(log_, debug, "op {} done: {} cycles, {} changes", op_, cycles,
         op_ == R::CMD_OP_STEP ? changes_.size() : 0U);
  update_irq();
  done_ev_.notify(sc_core::SC_ZERO_TIME);
}

tlm::tlm_response_status MetaUnit::window(const bus::WindowAccess& a) {
  const std::uint64_t first = a.offset / 4;
  const std::uint64_t count = a.len / 4;
  if (a.window.offset == R::LEVEL_VALUES_OFFSET) {
    // The level table (RO): float32 value of level k, k < L (a configuration ROM).
    if (a.write) return tlm::TLM_COMMAND_ERROR_RESPONSE;
    if (first + count > static_cast<std::uint64_t>(p_.levels))
      return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    for (std::uint64_t k = 0; k < count; ++k) {
      const float v = engine_->level_value(static_cast<int>(first + k));
      std::memcpy(a.data + 4 * k, &v, 4);
    }
    return tlm::TLM_OK_RESPONSE;
  }
  if (first + count > n_) return tlm::TLM_ADDRESS_ERROR_RESPONSE;  // beyond the weights
  // The windows are the unit's memories: they refuse access while an operation runs.
  if (!a.debug && busy_at(a.at)) {
    MP_LOG(log_, warn, "window {} access at {} while busy", a.window.name, a.at.to_string());
    return tlm::TLM_GENERIC_ERROR_RESPONSE;
  }
  unsigned char* data = a.data;
  if (a.window.offset == R::GRAD_OFFSET) {
    if (a.write) {
      std::memcpy(grad_raw_.data() + first, data, a.len);
    } else {  // debug read only (GRAD is WO)
      std::memcpy(data, grad_raw_.data() + first, a.len);
    }
    return tlm::TLM_OK_RESPONSE;
  }
  const bool hidden = a.window.offset == R::HIDDEN_OFFSET;
  const double scale = std::ldexp(1.0, static_cast<int>(p_.hidden_frac_bits));
  // The HIDDEN and LEVELS windows are the hidden-weight and level SRAMs: a firmware access
  // (not a debug one) is charged as 64-bit SRAM accesses of the bits it moves, in the
  // phase the firmware is in (the initial load, the read-back of the trained state, the
  // digital backward pass's LEVELS reads).
  if (!a.debug && ledger_ != nullptr && !(a.write && !hidden)) {
    const auto bits = hidden ? static_cast<double>(p_.hidden_bits)
                             : static_cast<double>(memory_bits(p_, 1).stored);
    const double acc = static_cast<double>(count) * bits / 64.0;
    ledger_->charge(e_sram_, p_.e_sram_access_pJ * 1e-12 * acc,
                    static_cast<std::uint64_t>(std::ceil(acc)));
  }
  if (a.write) {
    if (!hidden) return tlm::TLM_COMMAND_ERROR_RESPONSE;  // LEVELS is RO
    // Load hidden weights (a trained state): each sets its LEVELS entry too; no level
    // change is reported and nothing goes to pv_ctrl.
    for (std::uint64_t k = 0; k < count; ++k) {
      std::int32_t v = 0;
      std::memcpy(&v, data + 4 * k, 4);
      engine_->set_hidden(first + k, static_cast<double>(v) / scale);
    }
    return tlm::TLM_OK_RESPONSE;
  }
  for (std::uint64_t k = 0; k < count; ++k) {
    const std::size_t i = first + k;
    const std::int32_t v = hidden ? static_cast<std::int32_t>(std::llround(
                                        static_cast<double>(engine_->hidden(i)) * scale))
                                  : static_cast<std::int32_t>(engine_->levels()[i]);
    std::memcpy(data + 4 * k, &v, 4);
  }
  return tlm::TLM_OK_RESPONSE;
}

void MetaUnit::state_io(StateIO& io) {
  io.section("meta_unit");
  registers_state_io(io);
  engine_->state_io(io);
  io.vec("grad_raw", grad_raw_);
  io.vec("grad", grad_);
  io.value("op", op_);
  io.value("running", running_);
  io.value("end_known", end_known_);
  io.value("stalled", stalled_);
  sim::time_io(io, "op_start", op_start_);
  sim::time_io(io, "op_end", op_end_);
  sim::time_io(io, "stall_total", stall_total_);
  sim::time_io(io, "stall_last", stall_last_);
  io.value("commands_sent", commands_sent_);
  irq_level_.state_io(io, "meta_unit");
}

}  // namespace memplast::meta
