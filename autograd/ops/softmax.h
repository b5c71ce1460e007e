#pragma once
// Softmax ops (oneDNN softmax_v2): forward and backward side by side in softmax.cpp.
#include "autograd/variable.h"

namespace qat {

/// exp(x) / Σ exp(x) over `axis` (negative counts from the end).
Variable softmax(const Variable& x, int axis = -1);
/// x − log Σ exp(x) over `axis` (negative counts from the end).
Variable log_softmax(const Variable& x, int axis = -1);

}  // namespace qat
