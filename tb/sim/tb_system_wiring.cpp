// The wiring list of the system top against the list written by hand in docs/system.md
// (the fenced ```wiring block of section "Wiring"), for the default configuration with
// train.hidden = 128 (128 x 128 tiles: layer 0 on 7 tiles, layer 1 on one).
//  * System::wiring() (every socket and signal binding, and every remaining direct call
//    between blocks, recorded as the top makes it) equals the hand-written list, line for
//    line and in order: a new binding or call between blocks fails this test until the
//    document lists it.
//  * Cross-check with the SystemC object hierarchy, independent of the recording: every
//    bound interrupt port (sim::IrqOut / IrqIn) appears in a "(signal)" line, every
//    unbound one is not expected by the document, and every bus::Target's socket and
//    every tile's programming socket is the target of a "(tlm)" line.
//  * No direct call between blocks remains (issue 10 item 4 removed the last one, the
//    top's preload of meta_unit's hidden weights): no "(call: ...)" line, elaborated or
//    documented.
//  * The system then simulates (an empty firmware) without a SystemC error.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

#include "bus/target.hpp"
#include "config/config.hpp"
#include "fw/trainer.hpp"
#include "sim/irq.hpp"
#include "system/top.hpp"
#include "tile/tile_sc.hpp"

namespace {

std::vector<std::string> documented_wiring() {
  const char* src = std::getenv("MEMPLAST_SOURCE_DIR");
  const std::string path = std::string(src != nullptr ? src : ".") + "/docs/system.md";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<std::string> lines;
  std::string line;
  bool inside = false;
  int blocks = 0;
  while (std::getline(in, line)) {
    if (!inside && line == "```wiring") {
      inside = true;
      ++blocks;
      continue;
    }
    if (inside && line == "```") {
      inside = false;
      continue;
    }
    if (inside && !line.empty() && line[0] != '#') lines.push_back(line);
  }
  EXPECT_EQ(blocks, 1) << path << ": expected exactly one ```wiring block";
  EXPECT_FALSE(inside) << path << ": unterminated ```wiring block";
  return lines;
}

void collect(sc_core::sc_object* o, std::vector<sc_core::sc_object*>& all) {
  all.push_back(o);
  for (auto* c : o->get_child_objects()) collect(c, all);
}

}  // namespace

TEST(SystemWiring, MatchesTheHandWrittenList) {
  memplast::Config cfg;
  (void)memplast::make_schema(cfg);  // defaults
  cfg.train.hidden = 128;
  const auto shapes = memplast::fw::Trainer::shapes(cfg.train);
  bool ran = false;
  memplast::system::System sys(
      cfg, shapes, [&ran](memplast::hal::Hal&) { ran = true; }, true);

  const auto actual = sys.wiring().lines();
  const auto expected = documented_wiring();
  ASSERT_FALSE(expected.empty());
  for (std::size_t i = 0; i < std::max(actual.size(), expected.size()); ++i) {
    EXPECT_EQ(i < actual.size() ? actual[i] : "(none)",
              i < expected.size() ? expected[i] : "(none)")
        << "wiring line " << i + 1 << " (left: elaborated, right: docs/system.md)";
  }

  // Every connection is a socket or a signal binding: a direct call (a back door such as
  // the former preload of meta_unit's hidden weights) fails here even when documented.
  for (const auto& c : sys.wiring().connections())
    EXPECT_NE(c.kind.rfind("call", 0), 0U)
        << c.from << " -> " << c.to << ": a direct call between blocks";
  for (const auto& l : expected)
    EXPECT_EQ(l.find("(call:"), std::string::npos) << "docs/system.md lists a direct call: " << l;

  // The hierarchy, walked independently of the recording.
  std::set<std::string> signal_ends;
  std::set<std::string> tlm_targets;
  for (const auto& c : sys.wiring().connections()) {
    if (c.kind == "signal") {
      signal_ends.insert(c.from);
      signal_ends.insert(c.to);
    }
    if (c.kind == "tlm") tlm_targets.insert(c.to);
  }
  std::vector<sc_core::sc_object*> all;
  for (auto* o : sc_core::sc_get_top_level_objects()) collect(o, all);
  int irq_ports = 0;
  int targets = 0;
  int prog_ports = 0;
  for (auto* o : all) {
    auto* out = dynamic_cast<memplast::sim::IrqOut*>(o);
    auto* in = dynamic_cast<memplast::sim::IrqIn*>(o);
    if (out != nullptr || in != nullptr) {
      const bool bound = out != nullptr ? out->size() > 0 : in->size() > 0;
      if (bound) ++irq_ports;
      EXPECT_EQ(bound, signal_ends.count(o->name()) == 1) << o->name();
    }
    if (auto* tm = dynamic_cast<memplast::tile::TileModule*>(o)) {
      ++prog_ports;
      EXPECT_EQ(tlm_targets.count(tm->prog_socket.name()), 1U)
          << tm->prog_socket.name() << " is not in a (tlm) line";
    }
    if (auto* t = dynamic_cast<memplast::bus::Target*>(o)) {
      ++targets;
      EXPECT_EQ(tlm_targets.count(t->socket.name()), 1U)
          << t->socket.name() << " is not in a (tlm) line";
    }
  }
  // 8 tiles, pv_ctrl, meta_unit, dma, sysctl, pv_ctrl's space line: both ends each
  EXPECT_EQ(irq_ports, 2 * 13);
  EXPECT_EQ(targets, 12);    // sysctl, 8 tiles, pv_ctrl, meta_unit, dma
  EXPECT_EQ(prog_ports, 8);  // every tile's programming port is bound to pv_ctrl

  sc_core::sc_start();
  EXPECT_TRUE(ran);
  EXPECT_TRUE(sys.host().finished());
}
