#pragma once
// Eltwise: oneDNN element-wise forward and backward (any layout; output keeps the input's layout).
#include <oneapi/dnnl/dnnl.hpp>

#include "engine/tensor.h"

namespace qat::kernels {

/// dst = f(src) for a oneDNN eltwise algorithm with its alpha / beta.
Tensor eltwise_forward(dnnl::algorithm alg, const Tensor& src, float alpha = 0.0f, float beta = 0.0f);
/// diff_src = f'(data) * diff_dst; `data` is src, or dst for the *_use_dst_for_bwd algorithms.
Tensor eltwise_backward(dnnl::algorithm alg, const Tensor& diff_dst, const Tensor& data, float alpha = 0.0f,
                        float beta = 0.0f);

}  // namespace qat::kernels
