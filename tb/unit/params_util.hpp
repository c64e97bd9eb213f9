// Helpers the unit tests share for a block's configuration: its validated defaults and
// the check that an error names the offending key.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "common/schema.hpp"

namespace memplast::test {

// The defaults of a block's parameters P as its bind_params (found in P's namespace)
// registers them, validated.
template <class P>
P validated_defaults() {
  P p;
  cfg::Schema s;
  bind_params(s, p);
  s.reset_defaults();
  s.validate();
  return p;
}

// s.validate() must throw a ConfigError whose message names `key`.
inline void expect_error_names(cfg::Schema& s, const std::string& key) {
  try {
    s.validate();
    ADD_FAILURE() << "no ConfigError naming " << key;
  } catch (const cfg::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

}  // namespace memplast::test
