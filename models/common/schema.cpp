#include "common/schema.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace memplast::cfg {

using nlohmann::json;

const char* type_name(Type t) {
  switch (t) {
    case Type::Bool: return "bool";
    case Type::Int: return "integer";
    case Type::Real: return "number";
    case Type::String: return "string";
    case Type::RealList: return "list of numbers";
  }
  return "?";
}

namespace {
std::string fmt_real(double v) {
  std::string s = fmt::format("{:.6g}", v);
  return s;
}
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
std::string json_kind(const json& v) { return std::string(v.type_name()); }
// A value as JSON text for an error message; bytes that are not UTF-8 print as U+FFFD
// instead of throwing (the message must never be the thing that fails).
std::string json_text(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}
// True when `s` is valid UTF-8 (what JSON text, and so every output file, requires).
bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}
double as_real(const json& v, const std::string& key, const std::string& where) {
  if (!v.is_number()) {
    throw ConfigError(fmt::format("{}: key '{}' must be a number, got {} ({})", where, key,
                                  json_kind(v), json_text(v)));
  }
  return v.get<double>();
}
}  // namespace

void Schema::insert(KeyInfo info, Entry entry) {
  if (index_.count(info.key) != 0) {
    throw std::logic_error("config key declared twice: " + info.key);
  }
  index_[info.key] = info_.size();
  info_.push_back(std::move(info));
  entries_.push_back(std::move(entry));
  entries_.back().reset();
}

void Schema::add(const std::string& key, double* target, double lo, double hi, std::string unit,
                 std::string doc, std::string source) {
  const double def = *target;
  KeyInfo info{key,
               Type::Real,
               std::move(unit),
               std::move(doc),
               std::move(source),
               fmt_real(def),
               fmt::format("[{}, {}]", fmt_real(lo), fmt_real(hi))};
  Entry e;
  e.set = [key, target, lo, hi](const json& v, const std::string& where) {
    const double x = as_real(v, key, where);
    if (!std::isfinite(x) || x < lo || x > hi) {
      throw ConfigError(fmt::format("{}: key '{}' = {} is out of range [{}, {}]", where, key,
                                    fmt_real(x), fmt_real(lo), fmt_real(hi)));
    }
    *target = x;
  };
  e.get = [target] { return json(*target); };
  e.reset = [target, def] { *target = def; };
  insert(std::move(info), std::move(e));
}

void Schema::add(const std::string& key, std::int64_t* target, std::int64_t lo, std::int64_t hi,
                 std::string unit, std::string doc, std::string source) {
  const std::int64_t def = *target;
  KeyInfo info{key,
               Type::Int,
               std::move(unit),
               std::move(doc),
               std::move(source),
               std::to_string(def),
               fmt::format("[{}, {}]", lo, hi)};
  Entry e;
  e.set = [key, target, lo, hi](const json& v, const std::string& where) {
    if (!v.is_number_integer()) {
      throw ConfigError(fmt::format("{}: key '{}' must be an integer, got {} ({})", where, key,
                                    json_kind(v), json_text(v)));
    }
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi) {
      throw ConfigError(
          fmt::format("{}: key '{}' = {} is out of range [{}, {}]", where, key, x, lo, hi));
    }
    *target = x;
  };
  e.get = [target] { return json(*target); };
  e.reset = [target, def] { *target = def; };
  insert(std::move(info), std::move(e));
}

void Schema::add(const std::string& key, bool* target, std::string doc, std::string source) {
  const bool def = *target;
  KeyInfo info{
      key,          Type::Bool, "", std::move(doc), std::move(source), def ? "true" : "false",
      "true, false"};
  Entry e;
  e.set = [key, target](const json& v, const std::string& where) {
    if (!v.is_boolean()) {
      throw ConfigError(fmt::format("{}: key '{}' must be true or false, got {} ({})", where, key,
                                    json_kind(v), json_text(v)));
    }
    *target = v.get<bool>();
  };
  e.get = [target] { return json(*target); };
  e.reset = [target, def] { *target = def; };
  insert(std::move(info), std::move(e));
}

void Schema::add(const std::string& key, std::string* target, std::vector<std::string> choices,
                 std::string doc, std::string source) {
  const std::string def = *target;
  std::string range;
  for (const auto& c : choices) range += (range.empty() ? "" : ", ") + c;
  KeyInfo info{key,
               Type::String,
               "",
               std::move(doc),
               std::move(source),
               def.empty() ? "\"\"" : def,
               range.empty() ? "any" : range};
  Entry e;
  e.set = [key, target, choices, range](const json& v, const std::string& where) {
    if (!v.is_string()) {
      throw ConfigError(fmt::format("{}: key '{}' must be a string, got {} ({})", where, key,
                                    json_kind(v), json_text(v)));
    }
    auto s = v.get<std::string>();
    if (!choices.empty() && std::find(choices.begin(), choices.end(), s) == choices.end()) {
      throw ConfigError(
          fmt::format("{}: key '{}' = \"{}\" is not one of: {}", where, key, s, range));
    }
    *target = std::move(s);
  };
  e.get = [target] { return json(*target); };
  e.reset = [target, def] { *target = def; };
  insert(std::move(info), std::move(e));
}

void Schema::add(const std::string& key, std::vector<double>* target, double lo, double hi,
                 std::size_t min_size, std::size_t max_size, std::string unit, std::string doc,
                 std::string source) {
  const std::vector<double> def = *target;
  std::string dtext = "[";
  for (std::size_t i = 0; i < def.size(); ++i) dtext += (i ? ", " : "") + fmt_real(def[i]);
  dtext += "]";
  KeyInfo info{
      key,
      Type::RealList,
      std::move(unit),
      std::move(doc),
      std::move(source),
      dtext,
      fmt::format("{}..{} values in [{}, {}]", min_size, max_size, fmt_real(lo), fmt_real(hi))};
  Entry e;
  e.set = [key, target, lo, hi, min_size, max_size](const json& v, const std::string& where) {
    if (!v.is_array()) {
      throw ConfigError(fmt::format("{}: key '{}' must be a list of numbers, got {} ({})", where,
                                    key, json_kind(v), json_text(v)));
    }
    if (v.size() < min_size || v.size() > max_size) {
      throw ConfigError(fmt::format("{}: key '{}' has {} values, expected {}..{}", where, key,
                                    v.size(), min_size, max_size));
    }
    std::vector<double> out;
    for (const auto& x : v) {
      const double d = as_real(x, key, where);
      if (!std::isfinite(d) || d < lo || d > hi) {
        throw ConfigError(fmt::format("{}: key '{}' has value {} out of range [{}, {}]", where, key,
                                      fmt_real(d), fmt_real(lo), fmt_real(hi)));
      }
      out.push_back(d);
    }
    *target = std::move(out);
  };
  e.get = [target] { return json(*target); };
  e.reset = [target, def] { *target = def; };
  insert(std::move(info), std::move(e));
}

void Schema::add_check(std::function<void()> check) { checks_.push_back(std::move(check)); }

void Schema::reset_defaults() {
  for (auto& e : entries_) e.reset();
}

void Schema::set_key(const std::string& key, const json& value, const std::string& where) {
  auto it = index_.find(key);
  if (const auto rm = removed_.find(key); it == index_.end() && rm != removed_.end())
    throw ConfigError(fmt::format("{}: key '{}' was removed: {}", where, key, rm->second));
  if (it == index_.end()) {
    // Suggest the closest key (edit distance <= 3), or one with the same last part.
    std::string hint;
    std::size_t best = 4;
    const auto leaf = key.substr(key.rfind('.') + 1);
    for (const auto& k : info_) {
      std::size_t d = edit_distance(key, k.key);
      const auto kleaf = k.key.substr(k.key.rfind('.') + 1);
      if (kleaf == leaf) d = std::min<std::size_t>(d, 3);
      if (d < best) {
        best = d;
        hint = fmt::format(" (did you mean '{}'?)", k.key);
      }
    }
    throw ConfigError(
        fmt::format("{}: unknown key '{}'{}; `memplast config` lists every key", where, key, hint));
  }
  entries_[it->second].set(value, where);
}

void Schema::apply_json(const json& doc, const std::string& origin) {
  if (!doc.is_object()) {
    throw ConfigError(fmt::format("{}: the top level must be a JSON object", origin));
  }
  std::function<void(const json&, const std::string&)> walk = [&](const json& obj,
                                                                  const std::string& prefix) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
      if (it.key().rfind("//", 0) == 0 || it.key() == "$comment") continue;  // comments
      if (it->is_object() && index_.count(key) == 0) {
        walk(*it, key);
      } else {
        set_key(key, *it, origin);
      }
    }
  };
  walk(doc, "");
}

void Schema::apply_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open configuration file", path));
  json doc;
  try {
    doc = json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    throw ConfigError(fmt::format("{}: malformed JSON: {}", path, e.what()));
  }
  apply_json(doc, path);
}

void Schema::apply_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(
        fmt::format("--set '{}': expected key=value (for example tile.rows=64)", assignment));
  }
  if (!valid_utf8(assignment)) {
    throw ConfigError(
        fmt::format("--set '{}': not valid UTF-8 text", json_text(json(assignment)).substr(1)));
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::exception&) {
    value = text;  // bare words are strings
  }
  set_key(key, value, "--set " + key);
}

void Schema::validate() const {
  for (const auto& c : checks_) c();
}

json Schema::to_json() const {
  json out = json::object();
  for (std::size_t i = 0; i < info_.size(); ++i) {
    json* node = &out;
    std::stringstream ss(info_[i].key);
    std::string part;
    std::vector<std::string> parts;
    while (std::getline(ss, part, '.')) parts.push_back(part);
    for (std::size_t p = 0; p + 1 < parts.size(); ++p) node = &(*node)[parts[p]];
    (*node)[parts.back()] = entries_[i].get();
  }
  return out;
}

std::string Schema::markdown() const {
  std::string out =
      "| key | type | unit | default | range | meaning | source |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& k : info_) {
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", k.key, type_name(k.type),
                       k.unit.empty() ? "-" : k.unit, k.default_text, k.range_text, k.doc,
                       k.source.empty() ? "-" : k.source);
  }
  return out;
}

}  // namespace memplast::cfg
