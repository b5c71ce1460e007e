#pragma once
// Normalization ops (oneDNN batch and layer normalization): forward and backward side by side in norm.cpp.
#include "autograd/variable.h"

namespace qat {

/// Per-channel batch normalization of x [N, C, H, W] with weight and bias [C] (then ReLU when
/// `fuse_relu`). Training normalizes with the batch statistics and updates the running ones in place
/// (running_var from the unbiased batch variance, as PyTorch); evaluation normalizes with the running ones.
Variable batch_norm2d(const Variable& x, const Variable& weight, const Variable& bias, Tensor& running_mean,
                      Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f,
                      bool fuse_relu = false);
/// Normalizes x [..., C] over its last dimension, then scales by weight [C] and shifts by bias [C].
Variable layer_norm(const Variable& x, const Variable& weight, const Variable& bias, float eps = 1e-5f);

}  // namespace qat
