// The network's initial hidden weights, written once for every mode: layer l's hidden
// weights are U(-half_range, half_range) from the random stream "meta.init.layer<l>" of
// the global seed (train.init_half_range, sim.seed). The functional backend starts from
// these weights; the hardware firmware draws the same ones (fw::Trainer::initial_hidden)
// and writes them into meta_unit's HIDDEN window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "meta/meta_core.hpp"

namespace memplast::meta {

// Initialise `engine` (layer `layer`'s weights) from the layer's stream.
void init_layer(MetaEngine& engine, std::uint64_t global_seed, std::size_t layer,
                double half_range);

// w[i] = the value of weight i's current level, i < engine.size().
void level_values(const MetaEngine& engine, float* w);

}  // namespace memplast::meta
