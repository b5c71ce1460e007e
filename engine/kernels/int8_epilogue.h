#pragma once
// Int8Epilogue: what the integer convolutions do with an output channel's s32 accumulator.
#include <limits>
#include <vector>

#include "engine/tensor.h"

namespace qat::kernels {

/// What happens to the s32 accumulator acc of output channel c, in order:
/// v = scale[c]·acc + bias[c] (+ the destination's previous value when `accumulate`), clipped to
/// [lo, hi], stored as `dst_type` (u8/s8 rounded to nearest even and saturated, or f32).
struct Int8Epilogue {
  std::vector<float> scale;  ///< one per output channel
  std::vector<float> bias;   ///< one per output channel, or empty for none
  bool accumulate = false;   ///< add the destination's previous content (a residual); f32 only
  float lo = -std::numeric_limits<float>::max();
  float hi = std::numeric_limits<float>::max();
  DType dst_type = DType::f32;
};

}  // namespace qat::kernels
