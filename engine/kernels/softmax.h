#pragma once
// Softmax: oneDNN softmax / log-softmax over one axis, forward and backward (output keeps the layout).
#include <oneapi/dnnl/dnnl.hpp>

#include "engine/tensor.h"

namespace qat::kernels {

/// softmax (alg softmax_accurate) or log-softmax (alg softmax_log) of f32 `src` over `axis` (0-based).
Tensor softmax_forward(dnnl::algorithm alg, const Tensor& src, int axis);
/// diff_src from the forward output `dst` and the gradient `diff_dst` (any layout).
Tensor softmax_backward(dnnl::algorithm alg, const Tensor& diff_dst, const Tensor& dst, int axis);

}  // namespace qat::kernels
