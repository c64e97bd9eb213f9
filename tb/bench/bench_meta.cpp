// Throughput of the metaplastic update: step() over the weights of a 784-1024-10
// network (814,080 weights), fixed point and float, Adam, each option.
#include <benchmark/benchmark.h>

#include <vector>

#include "meta/meta_core.hpp"

namespace {

void run(benchmark::State& state, bool fixed, const char* option) {
  memplast::meta::MetaParams p;
  p.option = option;
  const std::size_t n = 784 * 1024 + 1024 * 10;
  auto e = fixed ? memplast::meta::make_fixed(p, n) : memplast::meta::make_float(p, n);
  memplast::Rng rng(1, "bench.meta");
  e->init_uniform(rng, 0.6);
  std::vector<float> g(n);
  for (auto& x : g) x = static_cast<float>(rng.normal(0.0, 1e-3));
  std::vector<memplast::meta::LevelChange> ch;
  ch.reserve(n);
  for (auto _ : state) {
    e->accumulate(g.data(), n);
    ch.clear();
    e->step(ch);
    benchmark::DoNotOptimize(ch.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
}

}  // namespace

BENCHMARK_CAPTURE(run, fixed_B, true, "B")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, fixed_C, true, "C")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, float_B, false, "B")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, float_C, false, "C")->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
