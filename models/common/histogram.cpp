#include "common/histogram.hpp"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace memplast {

namespace bh = boost::histogram;

CountHistogram count_histogram(const std::vector<std::uint32_t>& values) {
  std::uint32_t mx = 0;
  for (auto v : values) mx = std::max(mx, v);
  auto h = bh::make_histogram_with(bh::dense_storage<std::uint64_t>(),
                                   CountAxis(0, static_cast<std::int64_t>(mx) + 1));
  for (auto v : values) h(static_cast<std::int64_t>(v));
  return h;
}

std::uint64_t total(const CountHistogram& h) {
  std::uint64_t n = 0;
  for (auto&& b : bh::indexed(h)) n += *b;
  return n;
}

std::uint64_t value_sum(const CountHistogram& h) {
  std::uint64_t s = 0;
  for (auto&& b : bh::indexed(h)) s += *b * static_cast<std::uint64_t>(b.bin());
  return s;
}

std::int64_t max_value(const CountHistogram& h) {
  std::int64_t mx = 0;
  for (auto&& b : bh::indexed(h))
    if (*b > 0) mx = b.bin();
  return mx;
}

std::int64_t nth_smallest(const CountHistogram& h, std::uint64_t k) {
  std::uint64_t seen = 0;
  for (auto&& b : bh::indexed(h)) {
    seen += *b;
    if (seen > k) return b.bin();
  }
  throw std::out_of_range("nth_smallest: k is not less than the number of values counted");
}

ValueHistogram value_histogram(unsigned bins, double lo, double hi) {
  if (bins == 0 || !(lo < hi)) {
    throw std::invalid_argument("value_histogram: need bins > 0 and lo < hi");
  }
  return bh::make_histogram_with(bh::dense_storage<std::uint64_t>(), ValueAxis(bins, lo, hi));
}

nlohmann::json histogram_json(const ValueHistogram& h, const std::string& name) {
  const auto& ax = h.axis();
  nlohmann::json counts = nlohmann::json::array();
  for (int i = 0; i < ax.size(); ++i) counts.push_back(h.at(i));
  return {{"name", name},     {"lo", ax.value(0)},     {"width", ax.value(1) - ax.value(0)},
          {"counts", counts}, {"underflow", h.at(-1)}, {"overflow", h.at(ax.size())}};
}

}  // namespace memplast
