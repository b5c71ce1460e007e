#pragma once
// Matrix-product ops (oneDNN matmul): forward and backward side by side in matmul.cpp.
#include "autograd/variable.h"

namespace qat {

/// x·weightᵀ + bias over the last dim of x [..., in], with weight [out, in] and bias [out] or undefined.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias);
/// op(a)·op(b) over the last two dims, op transposing when its flag is set; batch dims broadcast.
Variable matmul(const Variable& a, const Variable& b, bool transpose_a = false, bool transpose_b = false);

}  // namespace qat
