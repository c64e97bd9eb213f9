#include "common/output.hpp"

#include <stdexcept>
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
  if (!out_) throw std::runtime_error(fmt::format("{}: cannot open for writing", tmp_.string()));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
}

void AtomicFile::commit() {
  out_.flush();
  if (!out_) throw std::runtime_error(fmt::format("{}: write failed", path_.string()));
  out_.close();
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("{}: cannot rename temporary file into place: {}", path_.string(), ec.message()));
  }
  committed_ = true;
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  AtomicFile f(path);
  f.stream() << content;
  f.commit();
}

}  // namespace memplast
