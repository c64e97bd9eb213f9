#include "data/idx.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

namespace memplast::data {
namespace {

// Sequential reader over a raw or gzip file. read() returns fewer bytes than asked
// only at the end of the data; every I/O or decompression fault throws.
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : path_(path) {
    errno = 0;
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      const int err = errno;
      if (err == ENOENT) throw DataError(fmt::format("{}: file not found", path));
      throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(err)));
    }
    std::array<unsigned char, 2> head{};
    const std::size_t got = std::fread(head.data(), 1, head.size(), file_);
    check_file_error();
    if (got == 2 && head[0] == 0x1f && head[1] == 0x8b) {
      std::fclose(file_);
      file_ = nullptr;
      gz_ = gzopen(path.c_str(), "rb");
      if (gz_ == nullptr) {
        throw DataError(fmt::format("{}: cannot open gzip file: {}", path,
                                    errno != 0 ? std::strerror(errno) : "out of memory"));
      }
      gzbuffer(gz_, 1U << 17U);
    } else {
      std::rewind(file_);
    }
  }

  ~ByteReader() {
    if (file_ != nullptr) std::fclose(file_);
    if (gz_ != nullptr) gzclose_r(gz_);
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  std::size_t read(std::uint8_t* dst, std::size_t n) {
    if (file_ != nullptr) {
      const std::size_t got = std::fread(dst, 1, n, file_);
      check_file_error();
      return got;
    }
    std::size_t total = 0;
    while (total < n) {
      const std::size_t chunk = std::min<std::size_t>(n - total, std::size_t{1} << 30U);
      const int got = gzread(gz_, dst + total, static_cast<unsigned>(chunk));
      if (got < 0) throw_gzip_error();
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    if (total < n) check_gzip_eof();
    return total;
  }

  // Reads to the end, returning the number of bytes skipped.
  std::size_t drain() {
    std::array<std::uint8_t, 1U << 16U> scratch{};
    std::size_t total = 0;
    for (;;) {
      const std::size_t got = read(scratch.data(), scratch.size());
      total += got;
      if (got < scratch.size()) return total;
    }
  }

  void close() {
    if (gz_ != nullptr) {
      const int rc = gzclose_r(gz_);
      gz_ = nullptr;
      if (rc == Z_BUF_ERROR) {
        throw DataError(
            fmt::format("{}: corrupt gzip stream: truncated (unexpected end of file)", path_));
      }
      if (rc != Z_OK) {
        throw DataError(fmt::format("{}: corrupt gzip stream (zlib error {})", path_, rc));
      }
    }
    if (file_ != nullptr) {
      std::fclose(file_);
      file_ = nullptr;
    }
  }

 private:
  void check_file_error() {
    if (std::ferror(file_) != 0) {
      const int err = errno;
      throw DataError(
          fmt::format("{}: read error: {}", path_, err != 0 ? std::strerror(err) : "I/O error"));
    }
  }

  // gzerror() prefixes its message with the path; drop it, ours leads the line.
  std::string zlib_message(const char* msg) const {
    std::string m = (msg != nullptr && *msg != '\0') ? msg : "decompression failed";
    const std::string prefix = path_ + ": ";
    if (m.compare(0, prefix.size(), prefix) == 0) m.erase(0, prefix.size());
    return m;
  }

  [[noreturn]] void throw_gzip_error() {
    int errnum = Z_OK;
    const char* msg = gzerror(gz_, &errnum);
    if (errnum == Z_ERRNO) {
      throw DataError(fmt::format("{}: read error: {}", path_, std::strerror(errno)));
    }
    throw DataError(fmt::format("{}: corrupt gzip stream: {}", path_, zlib_message(msg)));
  }

  // At the end of the decompressed data: zlib reports a stream that stops before
  // its end (truncated file) as a non-fatal Z_BUF_ERROR, which we make fatal.
  void check_gzip_eof() {
    int errnum = Z_OK;
    const char* msg = gzerror(gz_, &errnum);
    if (errnum == Z_BUF_ERROR) {
      throw DataError(
          fmt::format("{}: corrupt gzip stream: truncated (unexpected end of file)", path_));
    }
    if (errnum != Z_OK) {
      throw DataError(fmt::format("{}: corrupt gzip stream: {}", path_, zlib_message(msg)));
    }
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  gzFile gz_ = nullptr;
};

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) | (std::uint32_t{p[2]} << 8U) |
         std::uint32_t{p[3]};
}

// Reads exactly `bytes` of payload, then checks nothing follows.
// `what` describes the declared content for messages ("60000 images of 28x28").
std::vector<std::uint8_t> read_payload(ByteReader& in, const std::string& path, std::size_t bytes,
                                       const std::string& what) {
  std::vector<std::uint8_t> out;
  out.reserve(std::min<std::size_t>(bytes, std::size_t{64} << 20U));
  constexpr std::size_t kChunk = std::size_t{1} << 20U;
  while (out.size() < bytes) {
    const std::size_t old = out.size();
    const std::size_t want = std::min(kChunk, bytes - old);
    out.resize(old + want);
    const std::size_t got = in.read(out.data() + old, want);
    if (got < want) {
      out.resize(old + got);
      break;
    }
  }
  if (out.size() < bytes) {
    throw DataError(
        fmt::format("{}: truncated: header declares {} ({} bytes) but only {} bytes follow", path,
                    what, bytes, out.size()));
  }
  const std::size_t extra = in.drain();
  if (extra != 0) {
    throw DataError(fmt::format(
        "{}: trailing data: header declares {} ({} bytes) but {} bytes follow ({} extra)", path,
        what, bytes, bytes + extra, extra));
  }
  in.close();
  return out;
}

// Reads the magic number and `ndims` dimensions.
std::vector<std::size_t> read_header(ByteReader& in, const std::string& path,
                                     std::uint32_t expected_magic, const char* kind) {
  std::array<std::uint8_t, 4> magic_bytes{};
  const std::size_t got = in.read(magic_bytes.data(), magic_bytes.size());
  if (got < magic_bytes.size()) {
    throw DataError(fmt::format(
        "{}: truncated: the file holds {} bytes, too short for an IDX header", path, got));
  }
  const std::uint32_t magic = be32(magic_bytes.data());
  if (magic != expected_magic) {
    std::string hint;
    if (magic == kIdxImagesMagic) hint = " (this is an IDX image file)";
    if (magic == kIdxLabelsMagic) hint = " (this is an IDX label file)";
    throw DataError(
        fmt::format("{}: bad magic number 0x{:08x}, expected 0x{:08x} for an IDX {} file{}", path,
                    magic, expected_magic, kind, hint));
  }
  const std::size_t ndims = expected_magic & 0xffU;
  std::array<std::uint8_t, 4 * 255> dim_bytes{};
  const std::size_t dim_got = in.read(dim_bytes.data(), 4 * ndims);
  if (dim_got < 4 * ndims) {
    throw DataError(fmt::format("{}: truncated: the file ends inside the {}-byte IDX header", path,
                                4 + 4 * ndims));
  }
  std::vector<std::size_t> dims(ndims);
  for (std::size_t d = 0; d < ndims; ++d) dims[d] = be32(dim_bytes.data() + 4 * d);
  return dims;
}

}  // namespace

bool is_gzip_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  std::array<unsigned char, 2> head{};
  const std::size_t got = std::fread(head.data(), 1, head.size(), f);
  std::fclose(f);
  return got == 2 && head[0] == 0x1f && head[1] == 0x8b;
}

IdxImages read_idx_images(const std::string& path) {
  ByteReader in(path);
  const auto dims = read_header(in, path, kIdxImagesMagic, "image");
  IdxImages img;
  img.count = dims[0];
  img.rows = dims[1];
  img.cols = dims[2];
  if (img.count == 0 || img.rows == 0 || img.cols == 0) {
    throw DataError(
        fmt::format("{}: invalid dimensions: header declares {} images of {}x{} "
                    "(every dimension must be non-zero)",
                    path, img.count, img.rows, img.cols));
  }
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  if (img.rows > max / img.cols || img.rows * img.cols > max / img.count) {
    throw DataError(
        fmt::format("{}: invalid dimensions: header declares {} images of {}x{}, "
                    "too large to address",
                    path, img.count, img.rows, img.cols));
  }
  const std::size_t bytes = img.count * img.rows * img.cols;
  img.pixels = read_payload(in, path, bytes,
                            fmt::format("{} images of {}x{}", img.count, img.rows, img.cols));
  return img;
}

IdxLabels read_idx_labels(const std::string& path, std::uint8_t max_class) {
  ByteReader in(path);
  const auto dims = read_header(in, path, kIdxLabelsMagic, "label");
  IdxLabels lab;
  lab.count = dims[0];
  if (lab.count == 0) {
    throw DataError(fmt::format("{}: invalid dimensions: header declares 0 labels", path));
  }
  lab.labels = read_payload(in, path, lab.count, fmt::format("{} labels", lab.count));
  const auto bad = std::find_if(lab.labels.begin(), lab.labels.end(),
                                [max_class](std::uint8_t v) { return v > max_class; });
  if (bad != lab.labels.end()) {
    throw DataError(fmt::format("{}: label out of range: label {} at index {} (classes are 0..{})",
                                path, *bad, bad - lab.labels.begin(), max_class));
  }
  return lab;
}

}  // namespace memplast::data
