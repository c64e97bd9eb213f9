#include "meta/meta_init.hpp"

#include <string>

#include "common/rng.hpp"

namespace memplast::meta {

void init_layer(MetaEngine& engine, std::uint64_t global_seed, std::size_t layer,
                double half_range) {
  Rng rng(global_seed, "meta.init.layer" + std::to_string(layer));
  engine.init_uniform(rng, half_range);
}

void level_values(const MetaEngine& engine, float* w) {
  const auto* lv = engine.levels();
  for (std::size_t i = 0; i < engine.size(); ++i) w[i] = engine.level_value(lv[i]);
}

}  // namespace memplast::meta
