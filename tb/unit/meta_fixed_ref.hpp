// TEST-ONLY: the reference (pre-optimisation) fixed-point engine, see meta_fixed_ref.cpp.
#pragma once

#include <cstddef>
#include <memory>

#include "meta/meta_core.hpp"

namespace memplast::meta::ref {

std::unique_ptr<MetaEngine> make_fixed_ref(const MetaParams& p, std::size_t n);

}  // namespace memplast::meta::ref
