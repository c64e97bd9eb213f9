// The pure-math limit of the 784-H-10 network (issue 5): the minimal float GEMM work of
// one mini-batch, with Eigen, single-threaded, on this machine. Nothing else: no batch
// norm, no activation, no noise, no quantization, no optimizer.
//   BM_LimitTrain: forward Z1 = X W1 (B x 784 . 784 x H), Z2 = H1 W2 (B x H . H x 10),
//                  backward dW2 = H1^T dZ2, dH1 = dZ2 W2^T, dW1 = X^T dZ1.
//   BM_LimitInfer: the two forward products only.
// items_per_second is samples per CPU second (B samples per iteration); the FLOP counter
// (2 per multiply-accumulate) gives the achieved GFLOP/s. Arguments: H, B.
#include <cstdint>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include "common/rng.hpp"

namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr Eigen::Index kIn = 784;
constexpr Eigen::Index kOut = 10;

Mat random_matrix(Eigen::Index r, Eigen::Index c, memplast::Rng& rng) {
  Mat m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i)
    m.data()[i] = static_cast<float>(rng.uniform(-1.0, 1.0));
  return m;
}

struct Net {
  Net(Eigen::Index h, Eigen::Index b) : rng(1, "bench.limit", static_cast<std::uint64_t>(h)) {
    X = random_matrix(b, kIn, rng);
    W1 = random_matrix(kIn, h, rng);
    W2 = random_matrix(h, kOut, rng);
    dZ2 = random_matrix(b, kOut, rng);
    dZ1 = random_matrix(b, h, rng);
    Z1.resize(b, h);
    Z2.resize(b, kOut);
    dW1.resize(kIn, h);
    dW2.resize(h, kOut);
    dH1.resize(b, h);
  }
  memplast::Rng rng;
  Mat X, W1, W2, Z1, Z2, dZ2, dZ1, dW1, dW2, dH1;
};

void set_counters(benchmark::State& st, Eigen::Index h, Eigen::Index b, bool train) {
  const double macs_fwd = static_cast<double>(b) * static_cast<double>(kIn * h + h * kOut);
  const double macs_bwd = static_cast<double>(b) * static_cast<double>(kIn * h + 2 * h * kOut);
  const double macs = train ? macs_fwd + macs_bwd : macs_fwd;
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * b);
  st.counters["FLOP"] = benchmark::Counter(2.0 * macs * static_cast<double>(st.iterations()),
                                           benchmark::Counter::kIsRate);
}

// The forward products, and with Train the backward ones too.
template <bool Train>
void run_limit(benchmark::State& st) {
  const auto h = static_cast<Eigen::Index>(st.range(0));
  const auto b = static_cast<Eigen::Index>(st.range(1));
  Net n(h, b);
  for (auto _ : st) {
    n.Z1.noalias() = n.X * n.W1;
    // The hidden activation is taken as Z1 itself (its cost is not GEMM work).
    n.Z2.noalias() = n.Z1 * n.W2;
    if constexpr (Train) {
      n.dW2.noalias() = n.Z1.transpose() * n.dZ2;
      n.dH1.noalias() = n.dZ2 * n.W2.transpose();
      n.dW1.noalias() = n.X.transpose() * n.dZ1;
      benchmark::DoNotOptimize(n.dW1.data());
      benchmark::DoNotOptimize(n.dH1.data());
    }
    benchmark::DoNotOptimize(n.Z2.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, h, b, Train);
}

void BM_LimitTrain(benchmark::State& st) { run_limit<true>(st); }
void BM_LimitInfer(benchmark::State& st) { run_limit<false>(st); }

}  // namespace

BENCHMARK(BM_LimitTrain)->Args({1024, 100})->Args({256, 100})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LimitInfer)->Args({1024, 100})->Args({1024, 500})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
