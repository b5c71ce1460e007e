#pragma once
// Loss ops: cross-entropy with a fused, numerically stable log-softmax (forward and backward in loss.cpp).
#include "autograd/variable.h"

namespace qat {

/// Mean cross-entropy of logits [N, C] against s32 class targets [N], as PyTorch's F.cross_entropy:
/// per row (1 − ε)·(−log p_target) + ε·mean_c(−log p_c), averaged over rows whose target is not
/// `ignore_index` (NaN when every row is ignored; their gradient is zero).
Variable cross_entropy(const Variable& logits, const Tensor& targets, float label_smoothing = 0.0f,
                       int ignore_index = -100);

}  // namespace qat
