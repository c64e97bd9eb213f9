// Image classification data sets in memory (MNIST, Fashion-MNIST), batching into
// float buffers, deterministic splits and per-epoch shuffles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/idx.hpp"

namespace memplast::data {

struct Dataset {
  std::string name;
  std::size_t count = 0;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols, image-major, row-major
  std::vector<std::uint8_t> labels;  // count

  std::size_t image_size() const { return rows * cols; }
};

// A read-only view of one image's pixels (C++17 has no std::span).
struct ImageView {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  const std::uint8_t* begin() const { return data; }
  const std::uint8_t* end() const { return data + size; }
  std::uint8_t operator[](std::size_t i) const { return data[i]; }
};

// Loads an image file and its label file; their counts must agree.
Dataset load_dataset(const std::string& images_path, const std::string& labels_path,
                     const std::string& name, std::uint8_t max_class = kDefaultMaxClass);

// Image i (throws std::out_of_range when i >= count).
ImageView image(const Dataset& ds, std::size_t i);

// Fills out[k * image_size() + p] = pixel p of image idx[k] / 255 (in [0, 1]) for
// k < n. `out` must hold n * image_size() floats. Throws std::out_of_range on an
// index >= count, before writing anything.
void gather_float(const Dataset& ds, const std::uint32_t* idx, std::size_t n, float* out);

// Fills out[k] = label of image idx[k] for k < n (same checks as gather_float).
void gather_labels(const Dataset& ds, const std::uint32_t* idx, std::size_t n, std::uint8_t* out);

// Splits into the first `first_count` samples and the rest, in order. Throws
// std::invalid_argument when first_count > count.
struct SplitDatasets {
  Dataset first, rest;
};
SplitDatasets split(const Dataset& ds, std::size_t first_count);

// A permutation of 0..count-1, the same on every platform for a given
// (count, seed, epoch): Fisher-Yates (from the last element down) driven by
// splitmix64 with state mix(seed ^ mix(epoch + 0x9E3779B97F4A7C15)), drawing
// j in [0, i] with Lemire's unbiased multiply-and-reject method on the high 32
// bits of each output. Throws std::invalid_argument when count > 2^32 - 1.
std::vector<std::uint32_t> epoch_order(std::size_t count, std::uint64_t seed, std::uint32_t epoch);

// The train and test sets of one task.
struct TaskData {
  Dataset train, test;
};

// Task names: "mnist" (data_dir/mnist, raw IDX files) and "fashion_mnist"
// (data_dir/fashion_mnist, gzipped IDX files). A missing file is a DataError that
// names it and points to scripts/setup.
TaskData load_task(const std::string& data_dir, const std::string& task);

// The task names load_task knows.
const std::vector<std::string>& known_tasks();

}  // namespace memplast::data
