#include "cli/state.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "common/output.hpp"

namespace memplast::cli {

using nlohmann::json;

namespace {
constexpr int kFormat = 1;

json bn_json(const fw::BatchNorm& b) {
  return {{"gamma", b.gamma}, {"beta", b.beta}, {"mean", b.mean}, {"var", b.var}};
}

fw::BatchNorm bn_from(const json& j, std::size_t n, const std::string& where) {
  fw::BatchNorm b(n);
  for (const char* k : {"gamma", "beta", "mean", "var"}) {
    if (!j.contains(k) || !j[k].is_array() || j[k].size() != n) {
      throw std::runtime_error(
          fmt::format("{}: batch norm field '{}' missing or not {} numbers", where, k, n));
    }
  }
  b.gamma = j["gamma"].get<std::vector<float>>();
  b.beta = j["beta"].get<std::vector<float>>();
  b.mean = j["mean"].get<std::vector<float>>();
  b.var = j["var"].get<std::vector<float>>();
  return b;
}
}  // namespace

void save_state(const std::filesystem::path& dir, const TrainedState& s) {
  std::filesystem::create_directories(dir);
  json j;
  j["format"] = kFormat;
  j["tasks"] = s.tasks;
  j["config"] = s.config;
  json shapes = json::array();
  for (const auto& sh : s.shapes) shapes.push_back({sh.in, sh.out});
  j["shapes"] = shapes;
  json bns = json::array();
  for (const auto& set : s.batch_norms) {
    json layers = json::array();
    for (const auto& bn : set) layers.push_back(bn_json(bn));
    bns.push_back(layers);
  }
  j["batch_norms"] = bns;
  for (std::size_t l = 0; l < s.hidden.size(); ++l) {
    AtomicFile f(dir / fmt::format("hidden_layer{}.f32", l));
    f.stream().write(reinterpret_cast<const char*>(s.hidden[l].data()),
                     static_cast<std::streamsize>(s.hidden[l].size() * sizeof(float)));
    f.commit();
  }
  write_file_atomic(dir / "state.json", j.dump() + "\n");
}

TrainedState load_state(const std::filesystem::path& dir) {
  const auto jp = dir / "state.json";
  std::ifstream file(jp);
  if (!file) {
    throw std::runtime_error(
        fmt::format("{}: cannot open (a state is written by `memplast train` "
                    "into <out>/state/)",
                    jp.string()));
  }
  json j;
  try {
    j = json::parse(file);
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: malformed JSON: {}", jp.string(), e.what()));
  }
  if (!j.is_object() || !j.contains("format") || !j["format"].is_number_integer() ||
      j["format"].get<std::int64_t>() != kFormat) {
    throw std::runtime_error(
        fmt::format("{}: unsupported state format (expected {})", jp.string(), kFormat));
  }
  TrainedState s;
  try {
    s.config = j.at("config");
    s.tasks = j.at("tasks").get<std::vector<std::string>>();
    for (const auto& sh : j.at("shapes")) {
      const auto in = sh.at(0).get<std::size_t>();
      const auto out = sh.at(1).get<std::size_t>();
      // Bounds before anything is allocated from them (a layer of 2^27 weights is far
      // beyond any configuration memplast accepts).
      if (in == 0 || out == 0 || in > (1U << 20) || out > (1U << 20) || in * out > (1ULL << 27)) {
        throw std::runtime_error(
            fmt::format("{}: layer shape {} x {} out of range", jp.string(), in, out));
      }
      if (!s.shapes.empty() && s.shapes.back().out != in) {
        throw std::runtime_error(fmt::format("{}: layer {} has {} inputs, layer {} {} outputs",
                                             jp.string(), s.shapes.size(), in, s.shapes.size() - 1,
                                             s.shapes.back().out));
      }
      s.shapes.push_back({in, out});
    }
    if (s.shapes.empty() || s.shapes.size() > 16)
      throw std::runtime_error(fmt::format("{}: {} layers (1..16)", jp.string(), s.shapes.size()));
    for (const auto& set : j.at("batch_norms")) {
      if (set.size() != s.shapes.size()) {
        throw std::runtime_error(fmt::format("{}: a batch-norm set has {} layers, the shapes {}",
                                             jp.string(), set.size(), s.shapes.size()));
      }
      std::vector<fw::BatchNorm> layers;
      for (std::size_t l = 0; l < s.shapes.size(); ++l)
        layers.push_back(bn_from(set.at(l), s.shapes[l].out, jp.string()));
      s.batch_norms.push_back(std::move(layers));
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", jp.string(), e.what()));
  }
  for (std::size_t l = 0; l < s.shapes.size(); ++l) {
    const auto p = dir / fmt::format("hidden_layer{}.f32", l);
    const std::size_t n = s.shapes[l].in * s.shapes[l].out;
    std::ifstream f(p, std::ios::binary | std::ios::ate);
    if (!f) throw std::runtime_error(fmt::format("{}: cannot open", p.string()));
    const auto bytes = static_cast<std::size_t>(f.tellg());
    if (bytes != n * sizeof(float)) {
      throw std::runtime_error(fmt::format("{}: {} bytes, expected {} ({} x {} float32)",
                                           p.string(), bytes, n * sizeof(float), s.shapes[l].in,
                                           s.shapes[l].out));
    }
    f.seekg(0);
    std::vector<float> h(n);
    f.read(reinterpret_cast<char*>(h.data()), static_cast<std::streamsize>(bytes));
    s.hidden.push_back(std::move(h));
  }
  return s;
}

}  // namespace memplast::cli
