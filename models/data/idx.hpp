// Reader for the IDX format of MNIST and Fashion-MNIST (unsigned-byte images and
// labels), raw or gzip-compressed. Every fault in a file is a DataError whose
// message starts with the file's path and names what is wrong, e.g.
//   data/mnist/train-images-idx3-ubyte: truncated: header declares 60000 images
//   of 28x28 (47040000 bytes) but only 1234 bytes follow
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace memplast::data {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // ubyte, 3 dims
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // ubyte, 1 dim
inline constexpr std::uint8_t kDefaultMaxClass = 9;

struct IdxImages {
  std::size_t count = 0;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols, image-major, row-major
};

struct IdxLabels {
  std::size_t count = 0;
  std::vector<std::uint8_t> labels;
};

// True if the file starts with the gzip magic bytes 0x1f 0x8b.
bool is_gzip_file(const std::string& path);

// Reads an IDX image file (magic 0x00000803). Checks the magic, that no dimension
// is zero, and that the payload is exactly count*rows*cols bytes (no truncation,
// no trailing data). A gzip file is decompressed; a corrupt stream is an error.
IdxImages read_idx_images(const std::string& path);

// Reads an IDX label file (magic 0x00000801) and checks every label is in
// 0..max_class.
IdxLabels read_idx_labels(const std::string& path, std::uint8_t max_class = kDefaultMaxClass);

}  // namespace memplast::data
