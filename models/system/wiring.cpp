#include "system/wiring.hpp"

namespace memplast::system {

std::vector<std::string> Wiring::lines() const {
  std::vector<std::string> v;
  v.reserve(list_.size());
  for (const auto& c : list_) v.push_back(c.str());
  return v;
}

}  // namespace memplast::system
