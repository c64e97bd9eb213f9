// Configuration schema: every key with its type, unit, default, range and meaning.
// Each subsystem binds its typed parameter struct to dotted keys; the schema parses
// JSON and --set overrides into those structs, and validates everything before any
// module is built. No module parses JSON itself.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace memplast::cfg {

// Thrown for every configuration fault; the message names the key or file.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Type { Bool, Int, Real, String, RealList };

struct KeyInfo {
  std::string key;
  Type type{Type::Real};
  std::string unit;
  std::string doc;
  std::string source;  // calibration source or "assumption"
  std::string default_text;
  std::string range_text;
};

// Each key's default is the value its target holds when it is bound: the default
// member initializer of the parameter struct, written once there (bind a default-
// constructed struct). reset_defaults() restores those values.
class Schema {
 public:
  // Real-valued key in [lo, hi].
  void add(const std::string& key, double* target, double lo, double hi, std::string unit,
           std::string doc, std::string source = {});
  // Integer key in [lo, hi].
  void add(const std::string& key, std::int64_t* target, std::int64_t lo, std::int64_t hi,
           std::string unit, std::string doc, std::string source = {});
  void add(const std::string& key, bool* target, std::string doc, std::string source = {});
  // String key; if choices is non-empty the value must be one of them.
  void add(const std::string& key, std::string* target, std::vector<std::string> choices,
           std::string doc, std::string source = {});
  // List of reals, each in [lo, hi]; size in [min_size, max_size].
  void add(const std::string& key, std::vector<double>* target, double lo, double hi,
           std::size_t min_size, std::size_t max_size, std::string unit, std::string doc,
           std::string source = {});

  // A cross-key rule, run by validate(); throw ConfigError naming the keys.
  void add_check(std::function<void()> check);
  // A key that no longer exists: setting it is a ConfigError naming it and saying
  // `why` (e.g. which key replaces it).
  void add_removed(const std::string& key, const std::string& why) { removed_[key] = why; }

  // Set every key to its default.
  void reset_defaults();
  // Apply a JSON document (nested objects flatten to dotted keys). `origin` names the
  // file in error messages. Unknown keys and wrong types are errors.
  void apply_json(const nlohmann::json& doc, const std::string& origin);
  void apply_file(const std::string& path);
  // Apply "key=value" (value parsed as JSON when it parses, else as a string).
  void apply_override(const std::string& assignment);
  void validate() const;

  [[nodiscard]] const std::vector<KeyInfo>& keys() const { return info_; }
  [[nodiscard]] bool has(const std::string& key) const { return index_.count(key) != 0; }
  // The resolved value of every key as a nested JSON object.
  [[nodiscard]] nlohmann::json to_json() const;
  // Markdown table of every key (the docs/configuration.md body).
  [[nodiscard]] std::string markdown() const;

 private:
  struct Entry {
    std::function<void(const nlohmann::json&, const std::string&)> set;  // (value, where)
    std::function<nlohmann::json()> get;
    std::function<void()> reset;
  };
  void insert(KeyInfo info, Entry entry);
  void set_key(const std::string& key, const nlohmann::json& value, const std::string& where);

  std::vector<KeyInfo> info_;
  std::vector<Entry> entries_;
  std::map<std::string, std::size_t> index_;
  std::vector<std::function<void()>> checks_;
  std::map<std::string, std::string> removed_;
};

const char* type_name(Type t);

}  // namespace memplast::cfg
