#pragma once
// Int8Conv: a convolution of u8/s8 activation codes by s8 weight codes on oneDNN's int8 primitives, s32
// accumulation and a per-channel float epilogue, activations in NHWC. Built once per layer: the weights
// are reordered to the primitive's layout on first use and kept; primitives are cached per input shape.
// Its f32 form (f32 input and weights, same epilogue) serves layers whose input stays float (the image).
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "engine/kernels/conv.h"
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

/// An integer convolution: acc = Σ (src − src_zero_point)·weight, then the epilogue.
class Int8Conv {
 public:
  /// `weight`: s8 codes, plain [out, in/groups, KH, KW]; `src_type` u8 or s8 with a zero point; or both
  /// f32 (zero point 0).
  Int8Conv(const Tensor& weight, const Conv2dParams& params, DType src_type, int32_t src_zero_point,
           Int8Epilogue epilogue);
  /// [N, out, OH, OW] for input [N, C, H, W].
  Shape output_shape(const Shape& src) const;
  /// The epilogue of the convolution of `src` (NHWC, of src_type); returns NHWC.
  Tensor forward(const Tensor& src) const;
  /// Same, into `dst` (NHWC f32 of the output shape, holding the residual when accumulating).
  void forward_into(const Tensor& src, const Tensor& dst) const;

 private:
  struct Plan;  // the primitive of one input shape and the weights reordered for it
  const Plan& plan_for(const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md) const;
  Plan make_plan(const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md) const;

  // Without VNNI, what the primitive reads differs from what the caller gives (see int8_conv.cpp).
  Tensor primitive_source(const Tensor& src) const;
  int32_t source_zero_point() const { return src_zero_point_ + (shift_signed_src_ ? 128 : 0); }
  int32_t primitive_zero_point() const { return zero_point_in_bias_ ? 0 : source_zero_point(); }
  void fold_zero_point_into_bias();

  Tensor weight_;  // s8 codes (channels with a zero scale zeroed, see the constructor) or f32·scale
  Tensor primitive_weight_;  // weight_, or its split over a doubled input-channel axis
  Conv2dParams params_;
  DType src_type_;
  int32_t src_zero_point_;
  bool shift_signed_src_ = false;    // s8 codes read as u8 (+128) with the zero point shifted alike
  bool split_weight_ = false;        // each group's input channels read twice, by hi then lo
  bool zero_point_in_bias_ = false;  // −zp·Σw in the bias instead of oneDNN's zero-point kernel
  Int8Epilogue epilogue_;            // scale and bias as the primitive takes them
  Tensor bias_;                      // f32 [out] in accumulator units, or undefined
  // Plans by input shape (one or two in practice): a call looks its shape up here instead of building the
  // primitive cache's key, whose per-channel scales dominate a batch-1 layer's time.
  mutable std::vector<std::pair<Shape, std::shared_ptr<const Plan>>> plans_;
};

/// NHWC descriptor of an activation shape [N, C, H, W].
dnnl::memory::desc nhwc_desc(const Shape& shape, DType dtype);

}  // namespace qat::kernels
