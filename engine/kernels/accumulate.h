#pragma once
// Accumulate: acc += x for f32 tensors of equal dims (x is reordered to acc's layout when needed).
#include "engine/tensor.h"

namespace qat::kernels {

/// Adds `x` into `acc` in place; both f32 with equal dims.
void accumulate(Tensor& acc, const Tensor& x);

}  // namespace qat::kernels
