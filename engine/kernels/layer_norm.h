#pragma once
// LayerNorm: oneDNN layer normalization over the last dimension, with scale and shift.
#include "engine/tensor.h"

namespace qat::kernels {

/// Output plus the per-row statistics the backward needs.
struct LayerNormResult {
  Tensor dst;
  Tensor mean;
  Tensor variance;
};

/// Gradients of input, scale and shift.
struct LayerNormGrads {
  Tensor src;
  Tensor scale;
  Tensor shift;
};

/// Normalizes each row of x [..., C] (plain output of x's shape); scale and shift are [C].
LayerNormResult layer_norm_forward(const Tensor& x, const Tensor& scale, const Tensor& shift, float eps);
/// Gradients from dL/dy, the forward inputs and statistics (oneDNN 2.6 insists on being given the
/// shift although the gradients do not depend on it).
LayerNormGrads layer_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& scale,
                                   const Tensor& shift, const Tensor& mean, const Tensor& variance,
                                   float eps);

}  // namespace qat::kernels
