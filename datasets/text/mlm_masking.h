#pragma once
// BERT's masked-language-model corruption of a token sequence.
#include <cstdint>
#include <vector>

#include "engine/random.h"

namespace qat {

/// Picks each non-special token with probability `probability`; a picked token becomes [MASK] (80%), a
/// random non-special id (10%) or stays (10%), and its target is the original id; every other target is
/// -100 (ignored by the loss). `ids` is changed in place; returns the targets.
std::vector<int32_t> mask_tokens(std::vector<int32_t>& ids, float probability, int32_t vocab_size,
                                 Generator& gen);

}  // namespace qat
