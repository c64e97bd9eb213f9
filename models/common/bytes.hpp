// Bytes a container's elements occupy (summary.json state_bytes): size() x element size,
// for std::vector and Eigen matrices/vectors alike.
#pragma once

#include <cstddef>
#include <vector>

namespace memplast {

template <class T>
[[nodiscard]] std::size_t bytes_of(const std::vector<T>& v) {
  return v.size() * sizeof(T);
}

template <class M, class = typename M::Scalar>
[[nodiscard]] std::size_t bytes_of(const M& m) {
  return static_cast<std::size_t>(m.size()) * sizeof(typename M::Scalar);
}

}  // namespace memplast
