// The AVX2 and AVX-512 builds of the firmware's host products (fw/host_gemm.hpp) against a
// double reference, in the four transposition forms, with and without a scale factor, on
// shapes that are not multiples of the vector widths; each build is deterministic.
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/isa.hpp"
#include "common/rng.hpp"
#include "fw/host_gemm.hpp"

namespace {

#if defined(__x86_64__) && defined(__GNUC__)
TEST(HostGemm, SimdProductsMatchDoubleReference) {
  memplast::Rng rng(9, "test.host.gemm");
  const int m = 37;
  const int n = 29;
  const int k = 23;
  using Fn = void (*)(const float*, bool, const float*, bool, int, int, int, float, float*);
  struct Path {
    memplast::Isa isa;
    Fn fn;
  };
  int paths = 0;
  for (const Path& path : {Path{memplast::Isa::avx2, memplast::fw::gemm::product_avx2},
                           Path{memplast::Isa::avx512, memplast::fw::gemm::product_avx512}}) {
    if (!memplast::cpu_supports(path.isa)) continue;
    ++paths;
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        for (const float alpha : {1.0F, 0.37F}) {
          std::vector<float> a(static_cast<std::size_t>(m * k));
          std::vector<float> b(static_cast<std::size_t>(k * n));
          for (auto& v : a) v = static_cast<float>(rng.uniform(-1.0, 1.0));
          for (auto& v : b) v = static_cast<float>(rng.uniform(-1.0, 1.0));
          std::vector<float> c(static_cast<std::size_t>(m * n));
          std::vector<float> c2(c.size());
          path.fn(a.data(), ta, b.data(), tb, m, n, k, alpha, c.data());
          path.fn(a.data(), ta, b.data(), tb, m, n, k, alpha, c2.data());
          EXPECT_EQ(c, c2) << memplast::isa_name(path.isa);
          for (int i = 0; i < m; ++i) {
            for (int j = 0; j < n; ++j) {
              double ref = 0;
              double mag = 0;
              for (int l = 0; l < k; ++l) {
                // A row-major m x k (or k x m when ta), B k x n (or n x k when tb).
                const double av = ta ? a[static_cast<std::size_t>(l * m + i)]
                                     : a[static_cast<std::size_t>(i * k + l)];
                const double bv = tb ? b[static_cast<std::size_t>(j * k + l)]
                                     : b[static_cast<std::size_t>(l * n + j)];
                ref += av * bv;
                mag += std::fabs(av * bv);
              }
              ref *= static_cast<double>(alpha);
              EXPECT_NEAR(c[static_cast<std::size_t>(i * n + j)], ref, k * 6e-8 * mag + 1e-7)
                  << memplast::isa_name(path.isa) << " ta=" << ta << " tb=" << tb
                  << " alpha=" << alpha << " (" << i << "," << j << ")";
            }
          }
        }
      }
    }
  }
  if (paths == 0) GTEST_SKIP() << "CPU has neither AVX2+FMA nor AVX-512";
}
#endif

// The family's variable forces a path; an unknown value is an error naming it.
TEST(HostGemm, IsaVariableForcesThePath) {
  setenv("MEMPLAST_HOST_ISA", "generic", 1);
  EXPECT_EQ(memplast::select_isa("MEMPLAST_HOST_ISA"), memplast::Isa::generic);
  setenv("MEMPLAST_HOST_ISA", "sse9", 1);
  try {
    (void)memplast::select_isa("MEMPLAST_HOST_ISA");
    ADD_FAILURE() << "no error for MEMPLAST_HOST_ISA=sse9";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("MEMPLAST_HOST_ISA=sse9"), std::string::npos) << e.what();
  }
  unsetenv("MEMPLAST_HOST_ISA");
}

}  // namespace
