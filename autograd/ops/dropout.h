#pragma once
// Dropout: inverted dropout with a mask drawn from a seeded Generator (forward and backward in dropout.cpp).
#include "autograd/variable.h"
#include "engine/random.h"

namespace qat {

/// Zeroes each element with probability p and scales the rest by 1/(1 − p); the identity when p = 0 or
/// not training. The mask depends only on `gen`'s state, which advances by one draw per call.
Variable dropout(const Variable& x, float p, bool training, Generator& gen);

}  // namespace qat
