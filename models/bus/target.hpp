// bus::Target: the base class of every memory-mapped TLM-2.0 target (tile, meta_unit,
// pv_ctrl, sysctl), in the spirit of VCML's `peripheral`. It owns the target socket,
// the register bank (built from the generated regs::<block>::kRegisters), the dispatch
// of the block's buffer windows (regs::<block>::kWindows) to callbacks, the debug
// transport, the per-word access time and the protocol checks. A block derives from it
// and supplies only callbacks: register read/write hooks (registers().on_read/on_write),
// write checks (on_write_check), and one handler per window (on_window).
//
// Protocol (docs/bus.md), checked in this order; the response status is always set:
//   command not READ/WRITE/IGNORE                 -> TLM_COMMAND_ERROR_RESPONSE
//   TLM_IGNORE_COMMAND                            -> TLM_OK_RESPONSE, nothing happens, no time
//   byte enables present (unsupported)            -> TLM_BYTE_ENABLE_ERROR_RESPONSE
//   streaming width != length (unsupported)       -> TLM_BURST_ERROR_RESPONSE
//   length > max_burst_bytes (oversized)          -> TLM_BURST_ERROR_RESPONSE
//   address in a window: check_window             (burst / address / command errors)
//     window without a handler                    -> TLM_ADDRESS_ERROR_RESPONSE
//     otherwise                                   -> the handler's status
//   otherwise: RegisterBank::check                (size -> burst error, misaligned or
//                                                  unmapped -> address error, RO/WO ->
//                                                  command error)
//     write check of the register refuses         -> its status, the write is not done
//     otherwise the access is done; a hook may still fail() it with an error status.
//
// Timing (loosely timed): an access arriving at t = sc_time_stamp() + delay is handled
// at t (access_time() during the callbacks); a successful b_transport adds
// word_time per 32-bit word to delay and never waits. A refused access adds nothing.
// transport_dbg follows the same checks, runs no register hooks and no write checks,
// calls window handlers with debug = true, and never advances time (it has no delay
// to add to; access_time() is sc_time_stamp()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "bus/reg_bank.hpp"
#include "trace/probe.hpp"

namespace memplast::bus {

// The first four protocol checks above, shared by every target (Target and the DMA's
// host memory): the command, IGNORE (TLM_OK_RESPONSE: the caller does nothing more),
// byte enables, the streaming width.
tlm::tlm_response_status check_payload(const tlm::tlm_generic_payload& p);

// One access to a buffer window, as handed to its handler. The protocol checks have
// passed: `offset + len` lies inside the window and is a whole number of 32-bit words.
struct WindowAccess {
  const regs::WindowInfo& window;
  bool write;
  std::uint64_t offset;  // from the window's start
  unsigned char* data;
  unsigned len;         // bytes
  sc_core::sc_time at;  // the access's local time
  bool debug;           // transport_dbg: no side effects beyond the data, no busy rules
};

class Target : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Target> socket;

  using WindowHandler = std::function<tlm::tlm_response_status(const WindowAccess&)>;
  // Returns TLM_OK_RESPONSE to let a write of `value` happen, or the error response.
  using WriteCheck = std::function<tlm::tlm_response_status(std::uint32_t value)>;

  [[nodiscard]] const RegisterBank& bank() const { return regs_; }
  [[nodiscard]] sc_core::sc_time word_time() const { return word_time_; }
  // 0: no limit beyond the windows' and registers' own sizes.
  [[nodiscard]] std::uint32_t max_burst_bytes() const { return max_burst_; }
  void set_max_burst_bytes(std::uint32_t bytes) { max_burst_ = bytes; }
  // Checkpoint of the register bank (a block's own state_io calls it).
  void registers_state_io(StateIO& io) { regs_.state_io(io); }

  // The status b_transport would give this payload before calling any callback.
  [[nodiscard]] tlm::tlm_response_status check(const tlm::tlm_generic_payload& p,
                                               bool debug = false) const;

  // Tracing (trace/probe.hpp): the block's events go to the track named after the
  // module (basename) in `group`; null detaches. Done by the system top at elaboration.
  void attach_tracer(trace::Tracer* t, const std::string& group, int sort_index = 0) {
    probe_.attach(t, group, basename(), sort_index);
  }

 protected:
  // `word_time`: the time one 32-bit word of a successful access adds to the delay
  // (zero for a target whose access time the bus transfer covers).
  template <std::size_t NR, std::size_t NW>
  Target(const sc_core::sc_module_name& name, const std::array<regs::RegInfo, NR>& registers,
         const std::array<regs::WindowInfo, NW>& windows, const sc_core::sc_time& word_time)
      : Target(name, registers.data(), NR, windows.data(), NW, word_time) {}
  Target(const sc_core::sc_module_name& name, const regs::RegInfo* registers, std::size_t n_regs,
         const regs::WindowInfo* windows, std::size_t n_windows, const sc_core::sc_time& word_time);
  // Called at the start of every access (b_transport and transport_dbg): a block that
  // computes in the background (the tile's deferred MVM, sim.threads) finishes that work
  // here, so that no access, and no hook it runs, sees or races a computation in flight.
  virtual void before_access() {}

  RegisterBank& registers() { return regs_; }
  // The handler of the window at block-local `offset` (std::invalid_argument if no
  // window starts there).
  void on_window(std::uint32_t offset, WindowHandler handler);
  // A check run before a (non-debug) write to register `offset` is performed.
  void on_write_check(std::uint32_t offset, WriteCheck check);
  // Local time of the access being handled (for the hooks).
  [[nodiscard]] const sc_core::sc_time& access_time() const { return at_; }
  // Called from a register hook: the access completes with `status` instead of OK
  // (the register keeps the value written; no time is added).
  void fail(tlm::tlm_response_status status) { failed_ = status; }
  [[nodiscard]] const trace::Probe& probe() const { return probe_; }

 private:
  trace::Probe probe_;
  struct Window {
    regs::WindowInfo info;
    WindowHandler handler;
  };
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& p);
  // Performs the access at `at`; sets and returns the response status.
  tlm::tlm_response_status transport(tlm::tlm_generic_payload& p, const sc_core::sc_time& at,
                                     bool debug);
  [[nodiscard]] const Window* window_at(std::uint64_t offset) const;
  // check(), also giving the window the access falls in (nullptr: a register access).
  tlm::tlm_response_status check(const tlm::tlm_generic_payload& p, bool debug,
                                 const Window*& w) const;

  RegisterBank regs_;
  std::vector<Window> windows_;
  std::vector<std::pair<std::uint32_t, WriteCheck>> write_checks_;
  sc_core::sc_time word_time_;
  std::uint32_t max_burst_{0};
  sc_core::sc_time at_{sc_core::SC_ZERO_TIME};
  tlm::tlm_response_status failed_{tlm::TLM_OK_RESPONSE};
};

}  // namespace memplast::bus
