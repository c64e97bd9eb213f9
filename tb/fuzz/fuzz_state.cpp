// libFuzzer target: the saved-state reader (models/cli/state.*, what `memplast infer`
// reads). The input is split at the first line "--" into state.json and
// hidden_layer0.f32, at the second into hidden_layer1.f32; the files are written into
// a folder and load_state reads it. Every fault must be a std::runtime_error naming
// the file; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "cli/state.hpp"

namespace {
void put(const std::filesystem::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  static const std::filesystem::path dir = "/tmp/memplast_fuzz_state." + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string parts[3];
  std::size_t start = 0;
  for (int k = 0; k < 3; ++k) {
    const auto sep = k < 2 ? in.find("\n--\n", start) : std::string::npos;
    parts[k] = in.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
    if (sep == std::string::npos) {
      start = in.size();
    } else {
      start = sep + 4;
    }
  }
  put(dir / "state.json", parts[0]);
  put(dir / "hidden_layer0.f32", parts[1]);
  put(dir / "hidden_layer1.f32", parts[2]);
  try {
    (void)memplast::cli::load_state(dir);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
