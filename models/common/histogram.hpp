// One histogram type for per-device counts (writes, pulses, P&V iterations):
// Boost.Histogram with one integer bin per value, from 0 to the largest value counted,
// and exact 64-bit counts. Percentiles and means are read from the bins, so a
// distribution summary needs no sorted copy of the values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/histogram.hpp>
#include <nlohmann/json_fwd.hpp>

namespace memplast {

using CountAxis = boost::histogram::axis::integer<std::int64_t, boost::histogram::use_default,
                                                  boost::histogram::axis::option::none_t>;
using CountHistogram = boost::histogram::histogram<std::tuple<CountAxis>,
                                                   boost::histogram::dense_storage<std::uint64_t>>;

// The histogram of `values` (bins 0 .. max(values); one bin, 0, when empty).
CountHistogram count_histogram(const std::vector<std::uint32_t>& values);

// Number of values counted.
std::uint64_t total(const CountHistogram& h);
// Sum of the values counted.
std::uint64_t value_sum(const CountHistogram& h);
// The largest value counted (0 when empty).
std::int64_t max_value(const CountHistogram& h);
// The (k+1)-th smallest value counted, k < total(h) (the value std::nth_element puts at k).
std::int64_t nth_smallest(const CountHistogram& h, std::uint64_t k);

// A histogram of a continuous value (conductances, ADC inputs): `bins` equal bins over
// [lo, hi), plus an underflow and an overflow bin, exact 64-bit counts.
using ValueAxis = boost::histogram::axis::regular<double>;
using ValueHistogram = boost::histogram::histogram<std::tuple<ValueAxis>,
                                                   boost::histogram::dense_storage<std::uint64_t>>;
ValueHistogram value_histogram(unsigned bins, double lo, double hi);

// {"name", "lo", "width", "counts" (the in-range bins), "underflow", "overflow"}: the
// layout of histograms.json (docs/report.md).
nlohmann::json histogram_json(const ValueHistogram& h, const std::string& name);

}  // namespace memplast
