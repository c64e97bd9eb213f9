// rtl.meta: meta_unit's STEP datapath on the Verilated meta_update (docs/cosim.md).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/schema.hpp"
#include "rtl/meta_update_drv.hpp"
#include "rtl/rtl_blocks.hpp"

namespace memplast::rtl {

namespace {

using Engine = MetaFixedEngine;

class RtlMetaEngine final : public meta::MetaEngine {
 public:
  RtlMetaEngine(const meta::MetaParams& p, std::size_t n) : e_(p, n) {
    rtl_.configure(e_.hw_consts());
  }
  std::size_t size() const override { return e_.size(); }
  void init_uniform(Rng& rng, double a) override { e_.init_uniform(rng, a); }
  void accumulate(const float* grad, std::size_t n) override { e_.accumulate(grad, n); }
  void step(std::vector<meta::LevelChange>& changes) override {
    MetaState st = save_state(e_);
    const std::uint64_t div = st.divisor > 0 ? st.divisor : st.count;
    rtl_.set_step(e_.step_const(div, st.t + 1));
    rtl_.run(st, st, changed_, static_cast<int>(e_.params().hidden_bits),
             static_cast<int>(e_.params().m_bits));
    for (std::size_t i = 0; i < changed_.size(); ++i) {
      if (changed_[i] != 0) changes.push_back({static_cast<std::uint32_t>(i), st.lev[i]});
    }
    std::fill(st.acc.begin(), st.acc.end(), 0);  // STEP clears the accumulator
    st.count = 0;
    st.t += 1;
    load_state(e_, st);
  }
  void new_task() override { e_.new_task(); }
  void clear_accumulator() override { e_.clear_accumulator(); }
  void set_batch_divisor(std::uint32_t d) override { e_.set_batch_divisor(d); }
  const std::int8_t* levels() const override { return e_.levels(); }
  float level_value(int level) const override { return e_.level_value(level); }
  float hidden(std::size_t i) const override { return e_.hidden(i); }
  void set_hidden(std::size_t i, double w) override { e_.set_hidden(i, w); }
  meta::MemoryBits memory_bits() const override { return e_.memory_bits(); }
  std::uint64_t steps_in_task() const override { return e_.steps_in_task(); }
  const meta::MetaParams& params() const override { return e_.params(); }
  const meta::Quantizer& quantizer() const override { return e_.quantizer(); }
  void state_io(StateIO& io) override { e_.state_io(io); }

 private:
  Engine e_;
  MetaUpdateDriver rtl_;
  std::vector<std::uint8_t> changed_;
};

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) {
    throw cfg::ConfigError(fmt::format(
        "key 'rtl.meta': the Verilated meta_update is built for {}; key '{}' differs", what, key));
  }
}

}  // namespace

std::unique_ptr<meta::MetaEngine> make_meta_engine(const meta::MetaParams& p, std::size_t n) {
  // The RTL's parameters (meta_update.sv) are the meta.* defaults.
  const meta::MetaParams d;
  require(p.arithmetic == "fixed", "meta.arithmetic", "the fixed-point datapath (fixed)");
  require(p.hidden_bits == d.hidden_bits, "meta.hidden_bits", "HB = 16");
  require(p.grad_bits == d.grad_bits, "meta.grad_bits", "GB = 32");
  require(p.m_bits == d.m_bits, "meta.m_bits", "MB = 32");
  require(p.v_sig_bits == d.v_sig_bits, "meta.v_sig_bits", "VS = 21");
  require(p.rsqrt_lut_bits == d.rsqrt_lut_bits, "meta.rsqrt_lut_bits", "RK = 8");
  require(p.lut_entries == d.lut_entries, "meta.lut_entries", "LUT_N = 128");
  require(p.lut_frac_bits == d.lut_frac_bits, "meta.lut_frac_bits",
          "LUT_W = 17 (16 fraction bits)");
  require(p.levels <= 8, "meta.levels", "at most 8 levels (MAXT = 7 thresholds)");
  return std::make_unique<RtlMetaEngine>(p, n);
}

}  // namespace memplast::rtl
