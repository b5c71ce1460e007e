#pragma once
// BatchNorm: oneDNN per-channel batch normalization with scale and shift, optionally fused with ReLU
// (any input layout; the output keeps it).
#include "engine/tensor.h"

namespace qat::kernels {

/// Settings that select the primitive.
struct BatchNormParams {
  float eps = 1e-5f;
  bool fuse_relu = false;     ///< relu(bn(x)) in the same pass
  bool global_stats = false;  ///< normalize with given statistics instead of the batch's
};

/// What the backward needs: the statistics used (biased batch variance in training) and, with fused
/// ReLU, the workspace.
struct BatchNormSaved {
  Tensor mean;
  Tensor variance;
  Tensor workspace;
};

/// Output and saved state of a forward pass.
struct BatchNormResult {
  Tensor dst;
  BatchNormSaved saved;
};

/// Gradients of input, scale and shift.
struct BatchNormGrads {
  Tensor src;
  Tensor scale;
  Tensor shift;
};

/// Normalizes x [N, C, ...] per channel: with its batch statistics (returned in the result), or with the
/// given `mean` and `variance` [C] when p.global_stats. `for_backward` keeps what a backward needs.
BatchNormResult batch_norm_forward(const Tensor& x, const Tensor& scale, const Tensor& shift,
                                   const Tensor& mean, const Tensor& variance, const BatchNormParams& p,
                                   bool for_backward);
/// Gradients from dL/dy (any layout), the forward's inputs and its saved state (oneDNN 2.6 insists on
/// being given the shift although the gradients do not depend on it).
BatchNormGrads batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& scale,
                                   const Tensor& shift, const BatchNormSaved& saved,
                                   const BatchNormParams& p);

}  // namespace qat::kernels
