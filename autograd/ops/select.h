#pragma once
// Selection and rounding ops: forward and backward side by side in select.cpp.
#include "autograd/variable.h"

namespace qat {

/// condition ? a : b element-wise; `condition` is a u8 or f32 mask (nonzero = true) of the output shape.
Variable where(const Tensor& condition, const Variable& a, const Variable& b);
/// Round half to even, with a straight-through gradient (backward passes the gradient unchanged).
Variable round_ste(const Variable& x);

}  // namespace qat
