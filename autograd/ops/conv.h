#pragma once
// Convolution op (oneDNN convolution): forward and backward side by side in conv.cpp.
#include "autograd/variable.h"
#include "engine/kernels/conv.h"

namespace qat {

/// Square stride, padding, dilation and groups (designated initializers: `{.stride = 2, .padding = 1}`).
using Conv2dParams = kernels::Conv2dParams;

/// 2-D convolution of x [N, C, H, W] with weight [out, C/groups, KH, KW], plus bias [out] when defined.
Variable conv2d(const Variable& x, const Variable& w, const Variable& bias, const Conv2dParams& p = {});

}  // namespace qat
