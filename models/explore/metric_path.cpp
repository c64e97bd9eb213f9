#include "explore/metric_path.hpp"

#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast::explore {

namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' || c == '-';
}

[[noreturn]] void fail(const std::string& text, std::size_t pos, const std::string& what) {
  throw std::invalid_argument(
      fmt::format("malformed metric path '{}' at character {}: {}", text, pos + 1, what));
}

bool parse_integer(const std::string& s, long long* out) {
  if (s.empty()) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (std::size_t j = i; j < s.size(); ++j) {
    if (std::isdigit(static_cast<unsigned char>(s[j])) == 0) return false;
  }
  *out = std::strtoll(s.c_str(), nullptr, 10);
  return true;
}

}  // namespace

MetricPath MetricPath::parse(const std::string& text) {
  MetricPath p;
  p.text = text;
  std::size_t i = 0;
  auto read_name = [&](const char* what) {
    const std::size_t start = i;
    while (i < text.size() && name_char(text[i])) ++i;
    if (i == start) fail(text, start, fmt::format("expected {}", what));
    return text.substr(start, i - start);
  };
  if (text.empty()) throw std::invalid_argument("empty metric path");
  p.steps.emplace_back(Member{read_name("a member name")});
  while (i < text.size()) {
    if (text[i] == '.') {
      ++i;
      p.steps.emplace_back(Member{read_name("a member name after '.'")});
    } else if (text[i] == '[') {
      const std::size_t open = i;
      const auto close = text.find(']', i);
      if (close == std::string::npos) fail(text, open, "'[' without ']'");
      const std::string inner = text.substr(i + 1, close - i - 1);
      const auto eq = inner.find('=');
      long long idx = 0;
      if (eq == std::string::npos) {
        if (!parse_integer(inner, &idx))
          fail(text, open + 1, "expected an integer index or member=value");
        p.steps.emplace_back(Index{idx});
      } else {
        const std::string member = inner.substr(0, eq);
        if (member.empty()) fail(text, open + 1, "expected a member name before '='");
        for (std::size_t k = 0; k < member.size(); ++k) {
          if (!name_char(member[k])) fail(text, open + 1 + k, "invalid character in member name");
        }
        p.steps.emplace_back(Select{member, inner.substr(eq + 1)});
      }
      i = close + 1;
    } else {
      fail(text, i, fmt::format("unexpected '{}' (expected '.' or '[')", text[i]));
    }
  }
  return p;
}

std::optional<double> MetricPath::resolve(const nlohmann::json& doc, std::string* why) const {
  const nlohmann::json* node = &doc;
  std::string where;
  auto miss = [&](const std::string& msg) -> std::optional<double> {
    if (why != nullptr) *why = fmt::format("'{}': {}", text, msg);
    return std::nullopt;
  };
  for (const auto& step : steps) {
    if (const auto* m = std::get_if<Member>(&step)) {
      if (!node->is_object() || !node->contains(m->name)) {
        return miss(
            fmt::format("no member '{}' in {}", m->name, where.empty() ? "the document" : where));
      }
      node = &(*node)[m->name];
      where += (where.empty() ? "" : ".") + m->name;
    } else if (const auto* ix = std::get_if<Index>(&step)) {
      if (!node->is_array()) return miss(fmt::format("{} is not an array", where));
      const auto n = static_cast<long long>(node->size());
      const long long k = ix->index < 0 ? n + ix->index : ix->index;
      if (k < 0 || k >= n) {
        return miss(fmt::format("index {} out of range for {} ({} elements)", ix->index, where, n));
      }
      node = &(*node)[static_cast<std::size_t>(k)];
      where += fmt::format("[{}]", ix->index);
    } else {
      const auto& sel = std::get<Select>(step);
      if (!node->is_array()) return miss(fmt::format("{} is not an array", where));
      const nlohmann::json* found = nullptr;
      for (const auto& el : *node) {
        if (!el.is_object() || !el.contains(sel.member)) continue;
        const auto& v = el[sel.member];
        bool eq = false;
        if (v.is_string()) {
          eq = v.get<std::string>() == sel.value;
        } else if (v.is_number()) {
          char* end = nullptr;
          const double d = std::strtod(sel.value.c_str(), &end);
          eq = end != sel.value.c_str() && *end == '\0' && d == v.get<double>();
        }
        if (eq) {
          found = &el;
          break;
        }
      }
      if (found == nullptr) {
        return miss(fmt::format("no element of {} with {} = {}", where, sel.member, sel.value));
      }
      node = found;
      where += fmt::format("[{}={}]", sel.member, sel.value);
    }
  }
  if (node->is_number()) return node->get<double>();
  if (node->is_boolean()) return node->get<bool>() ? 1.0 : 0.0;
  return miss(fmt::format("value is {}, not a number", node->type_name()));
}

}  // namespace memplast::explore
