#pragma once
// Pooling ops (oneDNN pooling): forward and backward side by side in pool.cpp.
#include <cstdint>

#include "autograd/variable.h"

namespace qat {

/// Max over kernel×kernel windows of x [N, C, H, W] (floor mode, padding at most kernel/2).
Variable max_pool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t padding = 0);
/// Mean over kernel×kernel windows, padded zeros counted (PyTorch's count_include_pad=True).
Variable avg_pool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t padding = 0);
/// Mean over all of H×W: [N, C, H, W] -> [N, C, 1, 1].
Variable global_avg_pool2d(const Variable& x);

}  // namespace qat
