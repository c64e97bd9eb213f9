// The host products built with -mavx2 -mfma (host_gemm.hpp); Eigen renamed so that its
// AVX2 template instances are this file's own.
#define Eigen memplast_eigen_host_avx2
#define MEMPLAST_HOST_GEMM_FN product_avx2
#include "fw/host_gemm.hpp"
#include "fw/host_gemm_body.inc"
