// The firmware's host products of a training batch (dW1 = X^T dH1, dW2 = clip H1^T dZ2,
// dH1 = clip dZ2 W2^T) built for AVX2+FMA and for AVX-512, chosen at run time by the
// Trainer (MEMPLAST_HOST_ISA or MEMPLAST_ISA; common/isa.hpp). The generic path is the
// Trainer's own Eigen code built for the baseline ISA; these are the same Eigen products
// compiled with -mavx2 -mfma (host_gemm_avx2.cpp) and -mavx512f... (host_gemm_avx512.cpp),
// each inside a renamed copy of the Eigen namespace so that no template instance is
// shared with the baseline build (as tile/tile_gemm.hpp). Deterministic for a given path;
// they differ from the generic path in the last bits (FMA contraction, summation order).
#pragma once

namespace memplast::fw::gemm {

// C (m x n, row-major) = alpha * op(A) * op(B), A and B row-major: op(A) = A^T when
// `ta` (A is k x m) else A (m x k); op(B) = B^T when `tb` (B is n x k) else B (k x n).
// alpha == 1 multiplies by nothing.
void product_avx2(const float* A, bool ta, const float* B, bool tb, int m, int n, int k,
                  float alpha, float* C);
void product_avx512(const float* A, bool ta, const float* B, bool tb, int m, int n, int k,
                    float alpha, float* C);

}  // namespace memplast::fw::gemm
