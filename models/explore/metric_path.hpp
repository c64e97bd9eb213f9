// Paths into a run's summary.json, e.g. accuracy.after_task[-1].accuracy.mnist.
//
//   path    := name step*
//   step    := "." name | "[" index "]" | "[" name "=" value "]"
//   name    := one or more of A-Z a-z 0-9 _ $ -
//   index   := integer; negative counts from the end ([-1] is the last element)
//   value   := any characters but "]"; selects the first array element whose member
//              `name` equals it (as a string, or as a number when it parses as one)
//
// The value a path reaches must be a number (or a boolean, read as 0/1).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace memplast::explore {

struct MetricPath {
  struct Member {
    std::string name;
  };
  struct Index {
    long long index;
  };
  struct Select {
    std::string member;
    std::string value;
  };
  using Step = std::variant<Member, Index, Select>;

  std::string text;
  std::vector<Step> steps;

  // Throws std::invalid_argument naming the character position on a malformed path.
  static MetricPath parse(const std::string& text);

  // The number at the path, or nullopt with `why` set (which step failed, and why).
  std::optional<double> resolve(const nlohmann::json& doc, std::string* why = nullptr) const;
};

}  // namespace memplast::explore
