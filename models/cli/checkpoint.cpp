#include "cli/checkpoint.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

#include "common/output.hpp"

namespace memplast::cli {

using nlohmann::json;

namespace {
constexpr char kMagic[] = "MEMPLAST-CKPT\n";
constexpr std::size_t kMagicLen = sizeof kMagic - 1;

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

template <class T>
void put(std::ostream& o, T v) {
  o.write(reinterpret_cast<const char*>(&v), sizeof v);
}

void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out[prefix] = j;
  }
}
}  // namespace

void write_checkpoint(const std::filesystem::path& dir, const json& header,
                      const std::string& state) {
  AtomicFile f(dir / kCheckpointFile);
  auto& o = f.stream();
  o.write(kMagic, static_cast<std::streamsize>(kMagicLen));
  put<std::uint32_t>(o, kCheckpointFormat);
  const std::string h = header.dump();
  put<std::uint64_t>(o, h.size());
  o.write(h.data(), static_cast<std::streamsize>(h.size()));
  put<std::uint64_t>(o, state.size());
  o.write(state.data(), static_cast<std::streamsize>(state.size()));
  put<std::uint64_t>(o, fnv1a(state));
  f.commit();
}

Checkpoint read_checkpoint(const std::filesystem::path& dir) {
  Checkpoint c;
  c.file = dir / kCheckpointFile;
  const std::string name = c.file.string();
  std::ifstream in(c.file, std::ios::binary);
  if (!in) {
    throw std::runtime_error(fmt::format(
        "{}: cannot open (no checkpoint: a run writes one when stopped by SIGINT/SIGTERM "
        "or every train.checkpoint_every batches)",
        name));
  }
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t pos = 0;
  const auto truncated = [&](const char* what) {
    return std::runtime_error(fmt::format("{}: truncated checkpoint ({} bytes; ends inside the {})",
                                          name, data.size(), what));
  };
  if (data.size() < kMagicLen || data.compare(0, kMagicLen, kMagic) != 0)
    throw std::runtime_error(fmt::format("{}: not a memplast checkpoint (bad magic)", name));
  pos = kMagicLen;
  const auto get_u64 = [&](const char* what) {
    if (data.size() - pos < 8) throw truncated(what);
    std::uint64_t v = 0;
    std::memcpy(&v, data.data() + pos, 8);
    pos += 8;
    return v;
  };
  if (data.size() - pos < 4) throw truncated("format version");
  std::uint32_t format = 0;
  std::memcpy(&format, data.data() + pos, 4);
  pos += 4;
  if (format != kCheckpointFormat) {
    throw std::runtime_error(fmt::format("{}: checkpoint format {}, this memplast reads format {}",
                                         name, format, kCheckpointFormat));
  }
  const auto hn = get_u64("header length");
  if (hn > data.size() - pos) throw truncated("header");
  try {
    c.header = json::parse(data.substr(pos, hn));
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: malformed checkpoint header: {}", name, e.what()));
  }
  pos += hn;
  const auto sn = get_u64("state length");
  if (sn > data.size() - pos) throw truncated("state");
  c.state = data.substr(pos, sn);
  pos += sn;
  const auto sum = get_u64("checksum");
  if (pos != data.size())
    throw std::runtime_error(
        fmt::format("{}: {} bytes after the checksum", name, data.size() - pos));
  if (sum != fnv1a(c.state))
    throw std::runtime_error(fmt::format("{}: checksum mismatch: the checkpoint is corrupt", name));
  if (!c.header.is_object() || !c.header.contains("config") || !c.header["config"].is_object() ||
      !c.header.contains("mode") || !c.header["mode"].is_string()) {
    throw std::runtime_error(fmt::format("{}: checkpoint header lacks config or mode", name));
  }
  return c;
}

std::vector<std::string> config_differences(const json& a, const json& b) {
  std::map<std::string, json> fa;
  std::map<std::string, json> fb;
  flatten(a, "", fa);
  flatten(b, "", fb);
  std::vector<std::string> diff;
  for (const auto& [k, v] : fa) {
    const auto it = fb.find(k);
    if (it == fb.end() || it->second != v) diff.push_back(k);
  }
  for (const auto& [k, v] : fb)
    if (fa.find(k) == fa.end()) diff.push_back(k);
  return diff;
}

}  // namespace memplast::cli
