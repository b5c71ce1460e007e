#pragma once
// Conv: oneDNN 2-D convolution forward and backward in the layouts the primitives choose (blocked).
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

#include "engine/tensor.h"

namespace qat::kernels {

/// Square stride, padding, dilation (1 = dense) and groups of a 2-D convolution.
struct Conv2dParams {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
};

/// Layouts the forward primitive chose for a problem: src, weights (grouped dims when groups > 1), dst.
struct ConvLayouts {
  dnnl::memory::desc src;
  dnnl::memory::desc weights;
  dnnl::memory::desc dst;
};

/// [N, out, OH, OW] for input [N, C, H, W] and weight [out, C/groups, KH, KW] (no validation).
Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p);
/// The forward layouts for input shape `x`, weight shape `w` (benchmarks pre-lay-out inputs with them).
ConvLayouts conv2d_layouts(const Shape& x, const Shape& w, bool bias, const Conv2dParams& p);
/// y = x ⊛ w (+ bias); x in any layout, w plain [out, C/groups, KH, KW], bias [out] or undefined.
/// Returns NCHW-shaped f32 output in the primitive's layout. `src_used`, when given, receives x as the
/// primitive read it (layout and precision), which conv2d_backward_weights then reads without converting.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
                      Tensor* src_used = nullptr);
/// dL/dx (f32) of shape `x_shape` from dL/dy (any layout) and the plain weight. `diff_dst_used`, when
/// given, receives dL/dy as the primitive read it, which conv2d_backward_weights then reads as it is.
Tensor conv2d_backward_data(const Tensor& grad_out, const Tensor& w, const Shape& x_shape,
                            const Conv2dParams& p, Tensor* diff_dst_used = nullptr);

/// Weight gradient (plain, shaped like the weight) and bias gradient (undefined without bias).
struct ConvWeightGrads {
  Tensor weight;
  Tensor bias;
};
/// dL/dw (and dL/dbias when `bias`), f32, from dL/dy and the forward input x (any layouts and precisions).
ConvWeightGrads conv2d_backward_weights(const Tensor& grad_out, const Tensor& x, const Shape& w_shape,
                                        bool bias, const Conv2dParams& p);

}  // namespace qat::kernels
