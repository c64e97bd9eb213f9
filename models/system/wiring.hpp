// The wiring list of the system top (issue 10 item 7): every block-to-block connection,
// recorded as the top makes it. A socket binding is "initiator_socket -> target_socket
// (tlm)", an interrupt line "output_port -> input_port (signal)"; a connection that is
// still a C++ call between blocks is listed as "caller -> callee (call: what)", so that
// it is visible too. tb_system_wiring compares the list with the one written by hand in
// docs/system.md.
#pragma once

#include <string>
#include <vector>

#include <systemc>

#include "sim/irq.hpp"

namespace memplast::system {

struct Connection {
  std::string from;
  std::string to;
  std::string kind;  // "tlm", "signal" or "call: <what>"
  [[nodiscard]] std::string str() const { return from + " -> " + to + " (" + kind + ")"; }
};

class Wiring {
 public:
  // Bind initiator socket `init` to target socket `target` and record it.
  template <typename Init, typename Target>
  void socket(Init& init, Target& target) {
    init.bind(target);
    add(init.name(), target.name(), "tlm");
  }
  // Bind interrupt output `out` and input `in` to `line` and record it.
  void irq(sim::IrqOut& out, sim::IrqIn& in, sim::IrqLine& line) {
    out.bind(line);
    in.bind(line);
    add(out.name(), in.name(), "signal");
  }
  // Record a connection that is a C++ call from block `from` into block `to`.
  void call(const std::string& from, const std::string& to, const std::string& what) {
    add(from, to, "call: " + what);
  }

  [[nodiscard]] const std::vector<Connection>& connections() const { return list_; }
  // One line per connection (Connection::str), in the order the top made them.
  [[nodiscard]] std::vector<std::string> lines() const;

 private:
  void add(std::string from, std::string to, std::string kind) {
    list_.push_back({std::move(from), std::move(to), std::move(kind)});
  }
  std::vector<Connection> list_;
};

}  // namespace memplast::system
