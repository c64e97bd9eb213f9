// libFuzzer target: the configuration loader (models/config) with --set parsing. The
// input is a JSON document, then optionally a line "--" followed by one --set override
// per line. The document is loaded as a file (load_config: parsing, "$base", unknown
// keys, ranges, cross-key checks) and each override is applied. Every fault must be a
// cfg::ConfigError; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::string doc = in;
  std::vector<std::string> sets;
  const auto sep = in.find("\n--\n");
  if (sep != std::string::npos) {
    doc = in.substr(0, sep);
    std::istringstream rest(in.substr(sep + 4));
    for (std::string line; std::getline(rest, line);) sets.push_back(line);
  }
  static const std::string path =
      "/tmp/memplast_fuzz_config." + std::to_string(::getpid()) + ".json";
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << doc;
  }
  try {
    (void)memplast::load_config(path, sets);
  } catch (const memplast::cfg::ConfigError&) {
  }
  return 0;
}
