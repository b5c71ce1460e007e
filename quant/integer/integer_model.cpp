#include "quant/integer/integer_model.h"

#include <cxxabi.h>

#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <typeinfo>

#include "engine/error.h"
#include "engine/kernels/eltwise.h"
#include "engine/kernels/int8_conv.h"
#include "engine/kernels/pool.h"
#include "engine/kernels/quantize_codes.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/identity.h"
#include "layers/linear.h"
#include "layers/models/basic_block.h"
#include "layers/models/inverted_residual.h"
#include "layers/pool2d.h"
#include "layers/sequential.h"
#include "quant/quantized_layer.h"

namespace qat {
namespace {

std::string type_name(const Module& m) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(typeid(m).name(), nullptr, nullptr, &status), std::free);
  return status == 0 ? name.get() : typeid(m).name();
}

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : name.empty() ? prefix : prefix + "." + name;
}

bool is_weighted(const Module& m) {
  return dynamic_cast<const QuantizedLayer*>(&m) || dynamic_cast<const WeightedLayer*>(&m);
}

const WeightedLayer& weighted_layer(const Module& m) {
  if (const auto* q = dynamic_cast<const QuantizedLayer*>(&m)) return q->layer();
  return dynamic_cast<const WeightedLayer&>(m);
}

constexpr float kLowest = -std::numeric_limits<float>::max(), kHighest = std::numeric_limits<float>::max();

DType code_type(const InputGrid& g) { return g.qmin >= 0 ? DType::u8 : DType::s8; }

// What follows a layer's folded batch norm: nothing, ReLU or ReLU6 (an Activation module after it).
enum class Act { none, relu, relu6 };

// What a layer's output becomes: f32 (optionally added to the destination, ReLU after the sum), or the
// codes of the next layer's input; `act` applies before either.
struct Output {
  std::optional<InputGrid> requantize;
  bool accumulate = false;
  bool relu_after_sum = false;
  Act act = Act::none;
};

// One packed conv/linear layer: an int8 convolution of its input codes, or an f32 convolution with the
// dequantized weight when its input is float. A linear layer runs as a 1x1 convolution.
class LayerRunner {
 public:
  LayerRunner(const PackedLayer& layer, const Output& output);
  // The layer on `x`: f32 (NHWC, or plain for the float path and linear layers) or codes on its grid.
  Tensor run(const Tensor& x) const;
  // Accumulating form: adds the result to `dst` (NHWC f32).
  void run_into(const Tensor& x, const Tensor& dst) const;

 private:
  Tensor input_of(const Tensor& x) const;

  PackedLayer layer_;
  Output output_;
  kernels::Conv2dParams params_;
  std::unique_ptr<kernels::Int8Conv> conv_;
};

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

LayerRunner::LayerRunner(const PackedLayer& layer, const Output& output)
    : layer_(layer),
      output_(output),
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
  if (!layer.input) {
    QAT_CHECK(!output.requantize && !output.accumulate && layer.kind == PackedKind::conv2d,
              "integer inference: layer '", layer.path,
              "' reads a float input; only a plain convolution can");
    // The f32 form of the kernel: weights (code − zp) scaled per channel, the same epilogue.
    conv_ = std::make_unique<kernels::Int8Conv>(
        signed_weight(layer).to(DType::f32), params_, DType::f32, 0,
        kernels::Int8Epilogue{.scale = scale, .bias = bias, .lo = act_lo, .hi = act_hi});
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

// The kernel's input: the NHWC image for a float layer, else the codes of x on the layer's grid.
Tensor LayerRunner::input_of(const Tensor& x) const {
  if (!layer_.input) return x.to_layout(kernels::nhwc_desc(x.shape(), DType::f32));
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
  const Tensor y = conv_->forward(input_of(x));
  if (layer_.kind == PackedKind::conv2d) return y;
  return y.contiguous().reshape({y.dim(0), y.dim(1)});
}

void LayerRunner::run_into(const Tensor& x, const Tensor& dst) const {
  conv_->forward_into(input_of(x), dst);
}

using Step = std::function<Tensor(Tensor)>;

// A module of a flattened Sequential: a weighted layer with the batch norm and activation after it, or
// any other module.
struct Item {
  Module* module = nullptr;
  std::string path;
  std::string bn_path;  // the folded batch norm ("" when none)
  Act act = Act::none;  // the activation right after it
};

Act activation_kind(const Module* m) {
  const auto* a = dynamic_cast<const Activation*>(m);
  if (!a) return Act::none;
  if (a->kind() == ActivationKind::relu) return Act::relu;
  return a->kind() == ActivationKind::relu6 ? Act::relu6 : Act::none;
}

// Builds the steps of a module tree.
class Compiler {
 public:
  explicit Compiler(const PackedModel& packed) : packed_(packed) {}
  void module(Module& m, const std::string& path, std::vector<Step>& steps);

 private:
  void flatten(Module& m, const std::string& path, std::vector<Item>& items);
  std::vector<std::shared_ptr<LayerRunner>> layer_chain(const std::vector<Item>& items, bool accumulate_last);
  void chain(const std::vector<Item>& items, std::vector<Step>& steps);
  Step basic_block(Module& b, const std::string& path);
  Step inverted_residual(InvertedResidual& b, const std::string& path);
  const PackedLayer& layer(const Module& m, const std::string& path, const std::string& bn_path);

  const PackedModel& packed_;
};

Module& child(const Module& m, const std::string& name, const std::string& path) {
  for (const auto& [n, c] : m.children())
    if (n == name) return *c;
  detail::fail("integer inference: '", path, "' has no child '", name, "'");
}

// The packed record of a weighted module, checked against the module (kind, geometry, folded batch norm).
const PackedLayer& Compiler::layer(const Module& m, const std::string& path, const std::string& bn_path) {
  const PackedLayer& l = packed_.layer(path);
  const WeightedLayer& w = weighted_layer(m);
  QAT_CHECK(l.weight.shape == w.weight().shape(), "integer inference: layer '", path, "' has weight ",
            to_string(l.weight.shape), " in the packed model but ", to_string(w.weight().shape()),
            " in the architecture");
  if (const auto* conv = dynamic_cast<const Conv2d*>(&w)) {
    const Conv2dOptions& o = conv->options();
    QAT_CHECK(l.kind == PackedKind::conv2d && l.stride == o.stride && l.padding == o.padding &&
                  l.dilation == o.dilation && l.groups == o.groups,
              "integer inference: layer '", path, "': geometry differs from the architecture's Conv2d");
  } else {
    QAT_CHECK(l.kind == PackedKind::linear, "integer inference: layer '", path, "' is not a linear layer");
  }
  QAT_CHECK(l.batch_norm == bn_path, "integer inference: layer '", path, "' folds batch norm '", l.batch_norm,
            "' but the architecture has '", bn_path, "' after it");
  return l;
}

// The children of nested Sequentials in order, each weighted layer with the batch norm and the ReLU/ReLU6
// that follow it among its siblings.
void Compiler::flatten(Module& m, const std::string& path, std::vector<Item>& items) {
  const auto& children = m.children();
  for (size_t i = 0; i < children.size(); ++i) {
    Module& c = *children[i].second;
    const std::string at = join(path, children[i].first);
    if (dynamic_cast<Sequential*>(&c)) {
      flatten(c, at, items);
      continue;
    }
    Item item{.module = &c, .path = at, .bn_path = "", .act = Act::none};
    if (is_weighted(c)) {
      auto next = [&](size_t k) { return i + k < children.size() ? children[i + k].second.get() : nullptr; };
      if (dynamic_cast<BatchNorm2d*>(next(1))) item.bn_path = join(path, children[++i].first);
      if ((item.act = activation_kind(next(1))) != Act::none) ++i;
    }
    items.push_back(item);
  }
}

// Runners of consecutive weighted items: each with a quantized input of its own (an int8 kernel) writes
// the codes of the next one's input when that is quantized; the last one adds onto its destination when
// `accumulate_last`.
std::vector<std::shared_ptr<LayerRunner>> Compiler::layer_chain(const std::vector<Item>& items,
                                                                bool accumulate_last) {
  std::vector<std::shared_ptr<LayerRunner>> runners;
  for (size_t i = 0; i < items.size(); ++i) {
    QAT_CHECK(is_weighted(*items[i].module), "integer inference: '", items[i].path,
              "' inside a residual block is not a conv/linear layer");
    const bool last = i + 1 == items.size();
    Output output{.requantize = std::nullopt, .accumulate = last && accumulate_last, .act = items[i].act};
    const PackedLayer& current = layer(*items[i].module, items[i].path, items[i].bn_path);
    if (!last && current.input)
      output.requantize = layer(*items[i + 1].module, items[i + 1].path, items[i + 1].bn_path).input;
    runners.push_back(std::make_shared<LayerRunner>(current, output));
  }
  return runners;
}

// Steps of a flattened Sequential; an int8 layer right before another one with a quantized input writes
// that input's codes directly.
void Compiler::chain(const std::vector<Item>& items, std::vector<Step>& steps) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (!is_weighted(*items[i].module)) {
      module(*items[i].module, items[i].path, steps);
      continue;
    }
    const PackedLayer& current = layer(*items[i].module, items[i].path, items[i].bn_path);
    Output output{.requantize = std::nullopt, .act = items[i].act};
    if (current.input && i + 1 < items.size() && is_weighted(*items[i + 1].module))
      output.requantize = layer(*items[i + 1].module, items[i + 1].path, items[i + 1].bn_path).input;
    auto runner = std::make_shared<LayerRunner>(current, output);
    steps.push_back([runner](Tensor x) { return runner->run(x); });
  }
}

void Compiler::module(Module& m, const std::string& path, std::vector<Step>& steps) {
  if (dynamic_cast<Sequential*>(&m) || is_weighted(m)) {
    std::vector<Item> items;
    if (is_weighted(m))
      items.push_back({.module = &m, .path = path, .bn_path = "", .act = Act::none});
    else
      flatten(m, path, items);
    return chain(items, steps);
  }
  if (dynamic_cast<BasicBlock*>(&m)) return steps.push_back(basic_block(m, path));
  if (auto* b = dynamic_cast<InvertedResidual*>(&m)) return steps.push_back(inverted_residual(*b, path));
  if (const auto* a = dynamic_cast<const Activation*>(&m)) {
    QAT_CHECK(a->kind() == ActivationKind::relu || a->kind() == ActivationKind::relu6,
              "integer inference: activation '", path, "' is not ReLU or ReLU6");
    const bool six = a->kind() == ActivationKind::relu6;
    return steps.push_back([six](Tensor x) {
      return six ? kernels::eltwise_forward(dnnl::algorithm::eltwise_clip, x, 0.0f, 6.0f)
                 : kernels::eltwise_forward(dnnl::algorithm::eltwise_relu, x);
    });
  }
  if (auto* p = dynamic_cast<Pool2d*>(&m)) {
    QAT_CHECK(p->options().kind == PoolKind::global_average, "integer inference: pooling '", path,
              "' is not a global average pool");
    // The kernel and arithmetic of global_avg_pool2d, so the float values match the fake-quantized model.
    return steps.push_back([](Tensor x) {
      const int64_t h = x.dim(2), w = x.dim(3);
      return kernels::pool2d_forward(
                 x, {dnnl::algorithm::pooling_avg_include_padding, {h, w}, {h, w}, {0, 0}}, false)
          .dst;
    });
  }
  if (dynamic_cast<const Flatten*>(&m))
    return steps.push_back([](Tensor x) { return x.reshape({x.dim(0), x.numel() / x.dim(0)}); });
  if (dynamic_cast<const Identity*>(&m) || dynamic_cast<const Dropout*>(&m))
    return;  // identities in evaluation
  QAT_CHECK(!dynamic_cast<const BatchNorm2d*>(&m), "integer inference: batch norm '", path,
            "' does not follow a convolution, so it is not folded");
  detail::fail("integer inference: unsupported module '", path, "' (", type_name(m), ")");
}

// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): conv1 writes the codes of conv2's input directly;
// conv2 adds its result onto the shortcut's (x itself, updated in place, or the projection's output).
Step Compiler::basic_block(Module& b, const std::string& path) {
  const PackedLayer& conv1 = layer(child(b, "conv1", path), join(path, "conv1"), join(path, "bn1"));
  const PackedLayer& conv2 = layer(child(b, "conv2", path), join(path, "conv2"), join(path, "bn2"));
  QAT_CHECK(conv1.input && conv2.input, "integer inference: block '", path,
            "' has a convolution with a float input");
  auto first = std::make_shared<LayerRunner>(conv1, Output{.requantize = conv2.input});
  auto second = std::make_shared<LayerRunner>(
      conv2, Output{.requantize = std::nullopt, .accumulate = true, .relu_after_sum = true});
  Module& shortcut = child(b, "shortcut", path);
  std::shared_ptr<LayerRunner> projection;
  if (!shortcut.children().empty()) {
    const std::string at = join(path, "shortcut");
    const PackedLayer& l = layer(child(shortcut, "conv", at), join(at, "conv"), join(at, "bn"));
    QAT_CHECK(l.input, "integer inference: shortcut '", at, "' has a float input");
    projection = std::make_shared<LayerRunner>(l, Output{});
  }
  return [first, second, projection](Tensor x) {
    const Tensor codes = first->run(x);
    Tensor sum = projection ? projection->run(x) : x;
    second->run_into(codes, sum);
    return sum;
  };
}

// [expand →] depthwise → project (+ x): each layer writes the codes of the next one's input; with the
// residual, the projection adds its result onto x in place.
Step Compiler::inverted_residual(InvertedResidual& b, const std::string& path) {
  std::vector<Item> items;
  flatten(b, path, items);
  const auto runners = layer_chain(items, b.residual());
  const bool residual = b.residual();
  return [runners, residual](Tensor x) {
    Tensor y = x;
    for (size_t i = 0; i + 1 < runners.size(); ++i) y = runners[i]->run(y);
    if (!residual) return runners.back()->run(y);
    runners.back()->run_into(y, x);
    return x;
  };
}

}  // namespace

IntegerModel::IntegerModel(Module& architecture, const PackedModel& packed) {
  Compiler(packed).module(architecture, "", steps_);
  QAT_CHECK(!steps_.empty(), "integer inference: the architecture has no layers");
}

Tensor IntegerModel::forward(const Tensor& input) const {
  // A residual block updates its input in place: never the caller's tensor.
  Tensor x = input.clone();
  for (const Step& step : steps_) x = step(std::move(x));
  return x.contiguous();
}

}  // namespace qat
