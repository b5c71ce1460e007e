#pragma once
// Pool: oneDNN 2-D max / average pooling forward and backward (any layout in, primitive's layout out).
#include <array>
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

#include "engine/tensor.h"

namespace qat::kernels {

/// Algorithm and window ({h, w}) of a 2-D pooling; padding is symmetric.
struct Pool2dParams {
  dnnl::algorithm algorithm = dnnl::algorithm::pooling_max;
  std::array<int64_t, 2> kernel = {2, 2};
  std::array<int64_t, 2> stride = {2, 2};
  std::array<int64_t, 2> padding = {0, 0};
};

/// Pooled output and, for max pooling with `training`, the workspace its backward needs.
struct PoolResult {
  Tensor dst;
  Tensor workspace;
};

/// [N, C, OH, OW] for input [N, C, H, W] (floor mode, as PyTorch).
Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p);
/// Pools x [N, C, H, W] (any layout); `training` keeps what the backward needs.
PoolResult pool2d_forward(const Tensor& x, const Pool2dParams& p, bool training);
/// dL/dx laid out as `x_desc` (the forward input's layout) from dL/dy and the forward workspace.
Tensor pool2d_backward(const Tensor& grad_out, const Tensor& workspace, const dnnl::memory::desc& x_desc,
                       const Pool2dParams& p);

}  // namespace qat::kernels
