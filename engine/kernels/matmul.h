#pragma once
// Matmul: oneDNN matrix products, 2-D or batched, with transposes expressed as strides (no copies).
#include <oneapi/dnnl/dnnl.hpp>

#include "engine/tensor.h"

namespace qat::kernels {

/// op(a)·op(b) (+ bias) over the last two dims, op transposing them when its flag is set. Leading
/// (batch) dims broadcast where one side has 1 or lacks the dim; bias is [N] or undefined. f32 operands
/// (converted to bf16 when that is the context's precision); returns a plain f32 tensor [batch..., M, N].
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false, bool transpose_b = false,
              const Tensor& bias = Tensor());

/// The descriptor matmul gives a plain operand: dims left-padded with 1 to `ndim`, last two swapped
/// through the strides when `transpose`.
dnnl::memory::desc matmul_operand_desc(const Shape& shape, bool transpose, int ndim,
                                       DType dtype = DType::f32);

}  // namespace qat::kernels
