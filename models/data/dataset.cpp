#include "data/dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (moved here in fmt 11)

#include <array>
#include <filesystem>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace memplast::data {
namespace {

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

// splitmix64 (Steele, Lea, Flood), used through the high 32 bits of each output.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t state) : state_(state) {}
  std::uint64_t next() { return mix64(state_ += kGolden); }
  std::uint32_t next32() { return static_cast<std::uint32_t>(next() >> 32U); }

  // Uniform in [0, range), range > 0, without bias (Lemire 2019).
  std::uint32_t bounded(std::uint32_t range) {
    std::uint64_t m = std::uint64_t{next32()} * range;
    auto low = static_cast<std::uint32_t>(m);
    if (low < range) {
      const std::uint32_t threshold = (0U - range) % range;
      while (low < threshold) {
        m = std::uint64_t{next32()} * range;
        low = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::uint32_t>(m >> 32U);
  }

 private:
  std::uint64_t state_;
};

void check_indices(const Dataset& ds, const std::uint32_t* idx, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) {
    if (idx[k] >= ds.count) {
      throw std::out_of_range(
          fmt::format("{}: sample index {} out of range (count {})", ds.name, idx[k], ds.count));
    }
  }
}

Dataset slice(const Dataset& ds, std::size_t begin, std::size_t end, std::string name) {
  Dataset out;
  out.name = std::move(name);
  out.count = end - begin;
  out.rows = ds.rows;
  out.cols = ds.cols;
  const std::size_t sz = ds.image_size();
  out.pixels.assign(ds.pixels.begin() + static_cast<std::ptrdiff_t>(begin * sz),
                    ds.pixels.begin() + static_cast<std::ptrdiff_t>(end * sz));
  out.labels.assign(ds.labels.begin() + static_cast<std::ptrdiff_t>(begin),
                    ds.labels.begin() + static_cast<std::ptrdiff_t>(end));
  return out;
}

struct TaskFiles {
  const char* name;
  const char* dir;
  const char* suffix;
};
constexpr TaskFiles kTasks[] = {
    {"mnist", "mnist", ""},
    {"fashion_mnist", "fashion_mnist", ".gz"},
};

}  // namespace

Dataset load_dataset(const std::string& images_path, const std::string& labels_path,
                     const std::string& name, std::uint8_t max_class) {
  IdxImages img = read_idx_images(images_path);
  IdxLabels lab = read_idx_labels(labels_path, max_class);
  if (img.count != lab.count) {
    throw DataError(
        fmt::format("{}: count mismatch: {} images, but the label file {} has {} labels",
                    images_path, img.count, labels_path, lab.count));
  }
  Dataset ds;
  ds.name = name;
  ds.count = img.count;
  ds.rows = img.rows;
  ds.cols = img.cols;
  ds.pixels = std::move(img.pixels);
  ds.labels = std::move(lab.labels);
  return ds;
}

ImageView image(const Dataset& ds, std::size_t i) {
  if (i >= ds.count) {
    throw std::out_of_range(
        fmt::format("{}: image index {} out of range (count {})", ds.name, i, ds.count));
  }
  const std::size_t sz = ds.image_size();
  return ImageView{ds.pixels.data() + i * sz, sz};
}

void gather_float(const Dataset& ds, const std::uint32_t* idx, std::size_t n, float* out) {
  check_indices(ds, idx, n);
  static const auto kTable = [] {
    std::array<float, 256> t{};
    for (std::size_t v = 0; v < t.size(); ++v) t[v] = static_cast<float>(v) / 255.0F;
    return t;
  }();
  const std::size_t sz = ds.image_size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint8_t* src = ds.pixels.data() + std::size_t{idx[k]} * sz;
    float* dst = out + k * sz;
    for (std::size_t p = 0; p < sz; ++p) dst[p] = kTable[src[p]];
  }
}

void gather_labels(const Dataset& ds, const std::uint32_t* idx, std::size_t n, std::uint8_t* out) {
  check_indices(ds, idx, n);
  for (std::size_t k = 0; k < n; ++k) out[k] = ds.labels[idx[k]];
}

SplitDatasets split(const Dataset& ds, std::size_t first_count) {
  if (first_count > ds.count) {
    throw std::invalid_argument(fmt::format("{}: cannot split off {} samples, it has only {}",
                                            ds.name, first_count, ds.count));
  }
  return SplitDatasets{
      slice(ds, 0, first_count, fmt::format("{}[0:{}]", ds.name, first_count)),
      slice(ds, first_count, ds.count, fmt::format("{}[{}:{}]", ds.name, first_count, ds.count))};
}

std::vector<std::uint32_t> epoch_order(std::size_t count, std::uint64_t seed, std::uint32_t epoch) {
  if (count > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument(fmt::format("epoch_order: count {} exceeds 2^32 - 1", count));
  }
  std::vector<std::uint32_t> order(count);
  std::iota(order.begin(), order.end(), std::uint32_t{0});
  SplitMix64 rng(mix64(seed ^ mix64(std::uint64_t{epoch} + kGolden)));
  for (std::size_t i = count; i > 1; --i) {
    const std::uint32_t j = rng.bounded(static_cast<std::uint32_t>(i));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

const std::vector<std::string>& known_tasks() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& t : kTasks) v.emplace_back(t.name);
    return v;
  }();
  return names;
}

TaskData load_task(const std::string& data_dir, const std::string& task) {
  const TaskFiles* files = nullptr;
  for (const auto& t : kTasks) {
    if (task == t.name) files = &t;
  }
  if (files == nullptr) {
    throw DataError(
        fmt::format("unknown task '{}' (known tasks: {})", task, fmt::join(known_tasks(), ", ")));
  }
  const std::filesystem::path dir = std::filesystem::path(data_dir) / files->dir;
  auto file = [&](const char* stem) {
    return (dir / (std::string(stem) + files->suffix)).string();
  };
  const std::string train_images = file("train-images-idx3-ubyte");
  const std::string train_labels = file("train-labels-idx1-ubyte");
  const std::string test_images = file("t10k-images-idx3-ubyte");
  const std::string test_labels = file("t10k-labels-idx1-ubyte");
  for (const auto& p : {train_images, train_labels, test_images, test_labels}) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) {
      throw DataError(fmt::format(
          "{}: file not found (task '{}'; run scripts/setup to fetch the data sets)", p, task));
    }
  }
  TaskData td;
  td.train = load_dataset(train_images, train_labels, task + "/train");
  td.test = load_dataset(test_images, test_labels, task + "/test");
  return td;
}

}  // namespace memplast::data
