// The tile products built for AVX-512 F/DQ/CD/BW/VL + FMA (tile_gemm.hpp); Eigen renamed
// so that its AVX-512 template instances are this file's own.
#define Eigen memplast_eigen_avx512
#define MEMPLAST_TILE_GEMM_FN product_avx512
#include "tile/tile_gemm.hpp"
#include "tile/tile_gemm_body.inc"
