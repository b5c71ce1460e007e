#pragma once
// Binary: element-wise add/sub/mul/div with NumPy broadcasting, and reducing a gradient to a shape.
#include <oneapi/dnnl/dnnl.hpp>

#include "engine/tensor.h"

namespace qat::kernels {

/// The broadcast result shape of `a` and `b`; throws naming `op` and both shapes when they don't broadcast.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op);
/// alg(a, b) with broadcasting (binary_add / binary_sub / binary_mul / binary_div). Equal shapes keep
/// a's layout (b is reordered to it); otherwise the result is plain.
Tensor binary(dnnl::algorithm alg, const Tensor& a, const Tensor& b, const char* op);
/// Sums `x` over the axes where it was broadcast from `shape` (leading axes and size-1 axes).
Tensor sum_to_shape(const Tensor& x, const Shape& shape);
/// A plain tensor of `shape` holding `x` repeated along its broadcast axes.
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// oneDNN reduction (reduction_sum, reduction_mean, ...) of `x` to `dims` (same rank, 1 on reduced axes).
Tensor reduce(dnnl::algorithm alg, const Tensor& x, const Shape& dims);

}  // namespace qat::kernels
