// The tile products built with -mavx2 -mfma (tile_gemm.hpp); Eigen renamed so that its
// AVX2 template instances are this file's own.
#define Eigen memplast_eigen_avx2
#define MEMPLAST_TILE_GEMM_FN product_avx2
#include "tile/tile_gemm.hpp"
#include "tile/tile_gemm_body.inc"
