#pragma once
// Int8Depthwise: a depthwise convolution of u8/s8 activation codes (NHWC) by s8 weights, accumulated in
// int16 where that is exact. oneDNN 2.6's int8 depthwise kernel on AVX2 is slower than its f32 one; 16-bit
// lanes do twice the work of 32-bit ones per instruction and low-bit layers never need more.
#include <cstdint>
#include <vector>

#include "engine/kernels/conv.h"
#include "engine/kernels/int8_epilogue.h"
#include "engine/tensor.h"

namespace qat::kernels {

/// Depthwise (groups = in = out channels, one input channel per group), acc = Σ (src − zero point)·w over
/// the taps inside the image (padding is real 0), then the epilogue with `scale` and `bias` in accumulator
/// units (v = scale·(acc + bias)), clipped to [lo, hi], stored as dst_type; no accumulate.
class Int8Depthwise {
 public:
  /// True when every channel's Σ|w|·max|src − zero point| fits int16, so no partial sum can overflow.
  static bool accumulates_exactly(const Tensor& weight, DType src_type, int32_t src_zero_point);
  /// `weight`: s8 [channels, 1, KH, KW]; requires accumulates_exactly and !epilogue.accumulate.
  Int8Depthwise(const Tensor& weight, const Conv2dParams& params, DType src_type, int32_t src_zero_point,
                const Int8Epilogue& epilogue);
  /// `src` NHWC of src_type into `dst` NHWC of the epilogue's dst_type, shaped by conv2d_output_shape.
  void forward_into(const Tensor& src, const Tensor& dst) const;

 private:
  template <typename Src, typename Dst>
  void run(const Src* src, Dst* dst, const Shape& x, const Shape& y) const;

  int64_t channels_, padded_channels_, kernel_h_, kernel_w_;
  Conv2dParams params_;
  DType src_type_;
  int16_t zero_point_;
  std::vector<int16_t> taps_;        // [KH·KW][padded channels], zero beyond the channels
  std::vector<float> scale_, bias_;  // per padded channel
  float lo_, hi_;
  DType dst_type_;
};

}  // namespace qat::kernels
