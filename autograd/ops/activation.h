#pragma once
// Activation ops (oneDNN eltwise): forward and backward side by side in activation.cpp.
#include "autograd/variable.h"

namespace qat {

/// max(x, 0).
Variable relu(const Variable& x);
/// min(max(x, 0), 6).
Variable relu6(const Variable& x);
/// x·Φ(x) with the exact (erf) normal CDF, as PyTorch's default GELU.
Variable gelu(const Variable& x);
/// x·relu6(x + 3)/6.
Variable hardswish(const Variable& x);
/// 1 / (1 + e^-x).
Variable sigmoid(const Variable& x);
/// tanh(x).
Variable tanh(const Variable& x);
/// log(1 + e^x).
Variable softplus(const Variable& x);
/// min(max(x, lo), hi); gradient 1 strictly inside (lo, hi), 0 outside.
Variable clamp(const Variable& x, float lo, float hi);

}  // namespace qat
