// libFuzzer target: the IDX reader (models/data/idx.*), raw and gzip. The input is
// written to a file and read both as an image file and as a label file. Every fault
// must be a data::DataError; anything else (a crash, a sanitizer report, another
// exception, a huge allocation) is a finding.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include <unistd.h>

#include "data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/memplast_fuzz_idx." + std::to_string(::getpid());
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    (void)memplast::data::read_idx_images(path);
  } catch (const memplast::data::DataError&) {
  }
  try {
    (void)memplast::data::read_idx_labels(path);
  } catch (const memplast::data::DataError&) {
  }
  return 0;
}
