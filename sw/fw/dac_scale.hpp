// The transpose MVM's inputs (the backpropagated errors) are signed and unbounded; the
// tiles' DAC takes [-1, 1]. Both implementations of fw::Accelerator scale a batch of
// errors by its largest magnitude before the tiles and scale the results back.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace memplast::fw {

// scaled = d / max|d| over the n values; returns max|d| (1 when every value is 0).
inline float scale_to_dac_range(const float* d, std::size_t n, std::vector<float>& scaled) {
  float mx = 0;
  for (std::size_t i = 0; i < n; ++i) mx = std::max(mx, std::abs(d[i]));
  if (mx == 0) mx = 1;
  scaled.assign(d, d + n);
  for (auto& v : scaled) v /= mx;
  return mx;
}

// y[i] *= scale over the n results (undoes scale_to_dac_range on a linear MVM).
inline void scale_back(float* y, std::size_t n, float scale) {
  for (std::size_t i = 0; i < n; ++i) y[i] *= scale;
}

}  // namespace memplast::fw
