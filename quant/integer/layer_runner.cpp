#include "quant/integer/layer_runner.h"

#include <algorithm>
#include <limits>

#include "engine/error.h"
#include "engine/kernels/fake_quant.h"
#include "engine/kernels/quantize_codes.h"
#include "quant/export/weight_dequantize.h"

namespace qat {
namespace {

constexpr float kLowest = -std::numeric_limits<float>::max(), kHighest = std::numeric_limits<float>::max();

DType code_type(const InputGrid& g) { return g.qmin >= 0 ? DType::u8 : DType::s8; }

std::vector<float> per_channel(const std::vector<float>& v, int64_t channels) {
  return v.size() == 1 ? std::vector<float>(channels, v[0]) : v;
}

Shape conv_weight_shape(const PackedLayer& l) {
  const Shape& s = l.weight.shape;
  return l.kind == PackedKind::linear ? Shape{s[0], s[1], 1, 1} : s;
}

// code − zero point per element, as s8 (oneDNN's int8 convolutions take no weight zero point).
Tensor signed_weight(const PackedLayer& l) {
  const QuantizedWeight& w = l.weight;
  Tensor out = Tensor::empty(conv_weight_shape(l), DType::s8);
  const int64_t inner = static_cast<int64_t>(w.codes.size()) / w.out_channels();
  int8_t* p = out.data<int8_t>();
  for (size_t i = 0; i < w.codes.size(); ++i) {
    const int64_t v = w.codes[i] - w.zero_point[w.zero_point.size() == 1 ? 0 : i / inner];
    QAT_CHECK(v >= -128 && v <= 127, "integer inference: layer '", l.path, "': weight code ", w.codes[i],
              " minus its zero point does not fit s8");
    p[i] = static_cast<int8_t>(v);
  }
  return out;
}

// code − zero point of every weight, when all fit s8.
bool fits_s8(const QuantizedWeight& w) {
  const int64_t inner = static_cast<int64_t>(w.codes.size()) / w.out_channels();
  for (size_t i = 0; i < w.codes.size(); ++i) {
    const int64_t v = w.codes[i] - w.zero_point[w.zero_point.size() == 1 ? 0 : i / inner];
    if (v < -128 || v > 127) return false;
  }
  return true;
}

// An input [N, C] of a linear layer as [N, C, 1, 1].
Tensor as_image(const PackedLayer& l, const Tensor& x) {
  return l.kind == PackedKind::linear ? x.contiguous().reshape({x.dim(0), x.dim(1), 1, 1}) : x;
}

}  // namespace

bool runs_int8(const PackedLayer& layer) {
  return layer.input && ptq_field(layer.weight).empty() && fits_s8(layer.weight);
}

LayerRunner::LayerRunner(const PackedLayer& layer, const LayerOutput& output)
    : layer_(layer),
      int8_(runs_int8(layer)),
      params_{.stride = layer.stride,
              .padding = layer.padding,
              .dilation = layer.dilation,
              .groups = layer.groups} {
  const QuantizedWeight& w = layer.weight;
  const int64_t out = w.out_channels();
  const std::vector<float> scale = per_channel(w.scale, out);
  const std::vector<float> bias = w.bias.empty() ? std::vector<float>(out, 0.0f) : w.bias;
  const Act act = output.act == Act::none && layer.relu ? Act::relu : output.act;
  QAT_CHECK(!(output.accumulate && act != Act::none), "integer inference: layer '", layer.path,
            "' applies an activation before the residual sum, which the fused kernel cannot");
  // The activation's range [0, 6] or [0, ∞) in real values.
  const float act_lo = act == Act::none ? kLowest : 0.0f, act_hi = act == Act::relu6 ? 6.0f : kHighest;
  if (!int8_) {
    QAT_CHECK(!output.requantize, "integer inference: layer '", layer.path,
              "' runs in f32 and cannot write the codes of the next layer's input");
    conv_ = std::make_unique<kernels::Int8Conv>(
        Tensor::from_vector(conv_weight_shape(layer), dequantize(w)), params_, DType::f32, 0,
        kernels::Int8Epilogue{.scale = std::vector<float>(out, 1.0f),
                              .bias = bias,
                              .accumulate = output.accumulate,
                              .lo = output.relu_after_sum ? 0.0f : act_lo,
                              .hi = act_hi});
    return;
  }
  // Σ (a − zp_a)·s_a · (c − zp_w)·s_w[c] = s_a·s_w[c]·acc, then + bias; requantized: /s_next + zp_next,
  // the activation's range mapped onto the next grid (rounding is monotonic, so clipping before it is
  // the same as clipping the real value first).
  kernels::Int8Epilogue e{
      .scale = {}, .bias = bias, .accumulate = output.accumulate, .lo = act_lo, .hi = act_hi};
  for (int64_t c = 0; c < out; ++c) e.scale.push_back(layer.input->scale * scale[c]);
  if (const std::optional<InputGrid>& next = output.requantize) {
    const float inv = 1.0f / next->scale, offset = -static_cast<float>(next->zero_point) * next->scale;
    for (int64_t c = 0; c < out; ++c) {
      e.scale[c] *= inv;
      e.bias[c] = e.bias[c] * inv + static_cast<float>(next->zero_point);
    }
    e.lo = std::max(static_cast<float>(next->qmin), act == Act::none ? kLowest : (0.0f - offset) * inv);
    e.hi = std::min(static_cast<float>(next->qmax), act == Act::relu6 ? (6.0f - offset) * inv : kHighest);
    e.dst_type = code_type(*next);
  } else if (output.relu_after_sum) {
    e.lo = 0.0f;
  }
  conv_ = std::make_unique<kernels::Int8Conv>(signed_weight(layer), params_, code_type(*layer.input),
                                              static_cast<int32_t>(layer.input->zero_point), std::move(e));
}

// An f32 layer's input: x in NHWC, fake-quantized on the layer's input grid when it has one.
Tensor LayerRunner::real_input(const Tensor& x) const {
  const Tensor image = as_image(layer_, x);
  const dnnl::memory::desc nhwc = kernels::nhwc_desc(image.shape(), DType::f32);
  Tensor y = image.to_layout(nhwc);
  if (!layer_.input) return y;
  const InputGrid& g = *layer_.input;
  const float offset = -static_cast<float>(g.zero_point) * g.scale;
  Tensor out = Tensor::empty_like_desc(nhwc, image.shape());
  kernels::fake_quant_forward(static_cast<const float*>(y.raw()), static_cast<float*>(out.raw()), 1,
                              y.numel(),
                              {.scale = &g.scale,
                               .offset = &offset,
                               .qmin = static_cast<float>(g.qmin),
                               .qmax = static_cast<float>(g.qmax)});
  return out;
}

// The kernel's input: real values for an f32 layer, else the codes of x on the layer's grid.
Tensor LayerRunner::input_of(const Tensor& x) const {
  if (!int8_) return real_input(x);
  if (x.dtype() != DType::f32) return x;  // already the codes of this grid (a fused previous layer)
  const InputGrid& g = *layer_.input;
  const kernels::CodeGrid grid{.scale = g.scale,
                               .offset = -static_cast<float>(g.zero_point) * g.scale,
                               .qmin = g.qmin,
                               .qmax = g.qmax};
  if (layer_.kind == PackedKind::conv2d) return kernels::quantize_codes(x, grid, code_type(g));
  const Tensor codes = kernels::quantize_codes(x.contiguous(), grid, code_type(g));
  const Shape s{x.dim(0), x.dim(1), 1, 1};
  return codes.reshape(s).to_layout(kernels::nhwc_desc(s, code_type(g)));
}

Tensor LayerRunner::run(const Tensor& x) const {
  Tensor y = conv_->forward(input_of(x));
  if (layer_.kind == PackedKind::conv2d) return y;
  return y.contiguous().reshape({y.dim(0), y.dim(1)});
}

void LayerRunner::run_into(const Tensor& x, const Tensor& dst) const {
  conv_->forward_into(input_of(x), dst);
}

}  // namespace qat
