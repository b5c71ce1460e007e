#pragma once
// Helpers shared by the quantizers' ops: dense views for the fused kernels and per-channel statistics.
#include <vector>

#include "engine/tensor.h"

namespace qat {

/// `x` itself when its layout (plain or blocked) has no padding and per-channel blocks are not needed,
/// else its plain copy: the fused kernels then run over the raw buffer in place of a reorder.
Tensor dense_for_kernel(const Tensor& x, bool per_channel);
/// Uninitialized tensor with the layout of `like`.
Tensor empty_like(const Tensor& like);
/// Raw f32 pointer of a dense tensor (any layout).
float* raw_floats(const Tensor& t);
/// Plain f32 [values.size()] tensor.
Tensor vector_tensor(const std::vector<double>& values);
/// Per-channel max of x (axis 0 blocks; one value for channels = 1).
std::vector<float> channel_max(const Tensor& plain, int64_t channels);
/// Per-channel min of x.
std::vector<float> channel_min(const Tensor& plain, int64_t channels);
/// Per-channel mean of |x|.
std::vector<float> channel_mean_abs(const Tensor& plain, int64_t channels);
/// Per-channel max of |x|.
std::vector<float> channel_max_abs(const Tensor& plain, int64_t channels);
/// Per channel, the truncation α (of 100 candidates up to max |x|) whose grid ⌊clip(x/α, lo, 1)·n⌉·α/n
/// has the least squared error over x (at most 65536 evenly spread elements per channel).
std::vector<float> mse_truncation(const Tensor& plain, int64_t channels, float levels, bool is_signed);

}  // namespace qat
