#pragma once
// Accumulate: acc + x for f32 tensors of equal dims, in acc's layout (x is reordered to it when needed).
#include "engine/tensor.h"

namespace qat::kernels {

/// A new tensor acc + x laid out as `acc`; both f32 with equal dims.
Tensor accumulate(const Tensor& acc, const Tensor& x);

}  // namespace qat::kernels
