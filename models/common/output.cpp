#include "common/output.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

namespace memplast {

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  tmp_ = path_;
  tmp_ += fmt::format(".tmp.{}", static_cast<long>(::getpid()));
  if (path_.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
  }
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    throw std::runtime_error(
        fmt::format("{}: cannot open for writing: {}", tmp_.string(), std::strerror(errno)));
  }
  errno = 0;
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
}

void AtomicFile::commit() {
  // errno is cleared when the file is opened; the stream leaves it set by the failing
  // write (e.g. ENOSPC on a full disk), whether that write happened earlier or in flush.
  const auto failed = [this] {
    const int err = errno;
    return std::runtime_error(fmt::format("{}: write failed{}", path_.string(),
                                          err != 0 ? ": " + std::string(std::strerror(err)) : ""));
  };
  out_.flush();
  if (!out_) throw failed();
  out_.close();
  if (out_.fail()) throw failed();
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("{}: cannot rename temporary file into place: {}",
                                         path_.string(), ec.message()));
  }
  committed_ = true;
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  AtomicFile f(path);
  f.stream() << content;
  f.commit();
}

}  // namespace memplast
