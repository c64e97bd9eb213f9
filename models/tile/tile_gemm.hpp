// The tile's two products per MVM (signal W^T X or W X, read-noise variance S2^T X^2 or
// S2 X^2) built for AVX2+FMA and for AVX-512, chosen at run time by TileCore
// (MEMPLAST_TILE_ISA or MEMPLAST_ISA; common/isa.hpp). The generic path is TileCore's own
// Eigen code built for the baseline ISA; these are the same Eigen products compiled with
// -mavx2 -mfma (tile_gemm_avx2.cpp) and -mavx512f... (tile_gemm_avx512.cpp), each inside
// a renamed copy of the Eigen namespace so that no template instance is shared with the
// baseline build (no ODR clash between code for different instruction sets). Results are
// deterministic for a given path, but differ from the generic path in the last bits
// (FMA contraction and a different summation order).
#pragma once

namespace memplast::tile::gemm {

// C (n_out x k, column-major) = op(A) * f(B): A is a_rows x a_cols column-major, op(A) =
// A^T when `transpose` (n_out = a_cols, depth a_rows) else A (n_out = a_rows, depth a_cols);
// only the first `depth` (<= that) input lines are used: the first `depth` rows of A
// (transpose) or columns of A, and the first `depth` rows of B, which is column-major with
// leading dimension ldb and k columns; f(B) = B .* B when `square`, else B.
void product_avx2(const float* A, int a_rows, int a_cols, bool transpose, int depth, const float* B,
                  int ldb, int k, bool square, float* C);
void product_avx512(const float* A, int a_rows, int a_cols, bool transpose, int depth,
                    const float* B, int ldb, int k, bool square, float* C);

}  // namespace memplast::tile::gemm
