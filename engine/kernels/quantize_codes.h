#pragma once
// Quantization of a float activation to its integer codes, the input side of the integer kernels.
#include <cstdint>

#include "engine/tensor.h"

namespace qat::kernels {

/// An activation grid: code = clamp(⌊(x − offset)·(1/scale)⌉, qmin, qmax), rounding half to even.
struct CodeGrid {
  float scale = 1.0f;
  float offset = 0.0f;
  int64_t qmin = 0;
  int64_t qmax = 255;
};

/// The codes of `x` (f32, any strided layout without blocking, e.g. plain or NHWC) as `type` (u8 or s8) in
/// the same layout; grid_code's arithmetic (fake_quant_forward's), so codes match the fake-quantized values.
Tensor quantize_codes(const Tensor& x, const CodeGrid& grid, DType type);

}  // namespace qat::kernels
