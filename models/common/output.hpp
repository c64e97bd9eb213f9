// Atomic output files: content goes to "<path>.tmp.<pid>" and is renamed over
// <path> only after it was written and flushed completely, so a crash or an error
// never leaves a half-written file posing as a result.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace memplast {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();  // discards the temporary unless commit() ran
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ofstream& stream() { return out_; }
  void commit();  // flush, close, rename; throws std::runtime_error naming the file

 private:
  std::filesystem::path path_;
  std::filesystem::path tmp_;
  std::ofstream out_;
  bool committed_{false};
};

// Write `content` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

}  // namespace memplast
