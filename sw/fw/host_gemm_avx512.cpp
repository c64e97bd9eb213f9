// The host products built for AVX-512 F/DQ/CD/BW/VL + FMA (host_gemm.hpp); Eigen renamed
// so that its AVX-512 template instances are this file's own.
#define Eigen memplast_eigen_host_avx512
#define MEMPLAST_HOST_GEMM_FN product_avx512
#include "fw/host_gemm.hpp"
#include "fw/host_gemm_body.inc"
