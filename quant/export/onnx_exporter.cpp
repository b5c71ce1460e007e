#include "quant/export/onnx_exporter.h"

#include <cxxabi.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <typeinfo>

#include "autograd/grad_mode.h"
#include "engine/atomic_file.h"
#include "engine/error.h"
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
#include "quant/export/onnx_graph.h"
#include "quant/quantized_layer.h"

namespace qat {
namespace {

constexpr int64_t kIrVersion = 10;  // the first IR version with INT4/UINT4
constexpr int64_t kOpset = 21;      // the first opset whose QuantizeLinear/DequantizeLinear take int4

std::string type_name(const Module& m) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(typeid(m).name(), nullptr, nullptr, &status), std::free);
  return status == 0 ? name.get() : typeid(m).name();
}

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : name.empty() ? prefix : prefix + "." + name;
}

Module& child(const Module& m, const std::string& name, const std::string& path) {
  for (const auto& [n, c] : m.children())
    if (n == name) return *c;
  detail::fail("onnx export: '", path, "' has no child '", name, "'");
}

bool is_weighted(const Module& m) {
  return dynamic_cast<const QuantizedLayer*>(&m) || dynamic_cast<const WeightedLayer*>(&m);
}

// The integer zero point of a grid with real offset `offset`: output = (code − zp)·scale, zp = −offset/scale.
int64_t integer_zero_point(float offset, float scale, const std::string& what) {
  const double zp = -static_cast<double>(offset) / scale;
  const double rounded = std::nearbyint(zp);
  QAT_CHECK(std::abs(zp - rounded) <= 1e-3 * std::max(1.0, std::abs(rounded)), what,
            ": zero point −offset/scale = ", zp, " is not an integer (ONNX Q/DQ needs one)");
  return static_cast<int64_t>(rounded);
}

void check_initialized(const Quantizer& q, const std::string& what) {
  QAT_CHECK(q.initialized(), what, ": quantizer not initialized (run a forward pass or load a checkpoint)");
}

// A following batch norm in evaluation as a per-channel affine map y·k + shift, with its fused ReLU:
// γ·(y − μ)/sqrt(σ² + ε) + β = y·k + (β − μ·k), k = γ/sqrt(σ² + ε).
struct ChannelAffine {
  std::vector<float> k;
  std::vector<float> shift;
  bool relu = false;
};

ChannelAffine fold_batch_norm(BatchNorm2d& bn, int64_t channels, const std::string& path) {
  std::map<std::string, std::vector<float>> values;
  for (const auto& [name, p] : bn.named_parameters()) values[name] = p.data().to_vector();
  for (const auto& [name, t] : bn.named_buffers()) values[name] = t->to_vector();
  const std::vector<float>&gamma = values["weight"], &beta = values["bias"];
  const std::vector<float>&mean = values["running_mean"], &var = values["running_var"];
  QAT_CHECK(static_cast<int64_t>(gamma.size()) == channels, "onnx export: batch norm '", path, "' has ",
            gamma.size(), " channels after a layer with ", channels);
  ChannelAffine fold{.k = {}, .shift = {}, .relu = bn.options().fuse_relu};
  for (int64_t c = 0; c < channels; ++c) {
    const double k = gamma[c] / std::sqrt(static_cast<double>(var[c]) + bn.options().eps);
    fold.k.push_back(static_cast<float>(k));
    fold.shift.push_back(static_cast<float>(beta[c] - mean[c] * k));
  }
  return fold;
}

// A quantized weight: integer codes with, per channel (one entry when per-tensor), step and zero point.
struct WeightCodes {
  std::vector<int64_t> codes;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int64_t qmin = 0, qmax = 0;
};

// The codes of the weight as evaluated (q(w) = code·scale + offset), checked to lie on the grid.
WeightCodes weight_codes(QuantizedLayer& layer, const std::string& path) {
  const Quantizer& wq = *layer.weight_quantizer();
  check_initialized(wq, path + ".wq");
  const QuantGrid grid = wq.grid();
  std::vector<float> q;
  {
    NoGrad no_grad;
    q = layer.effective_weight().data().to_vector();
  }
  const auto channels = static_cast<int64_t>(grid.scale.size());
  const int64_t out = layer.layer().weight().dim(0), inner = static_cast<int64_t>(q.size()) / out;
  QAT_CHECK((channels == 1 || channels == out) && grid.offset.size() == grid.scale.size(),
            "onnx export: ", path, ".wq has ", channels, " scales and ", grid.offset.size(), " offsets for ",
            out, " output channels");
  WeightCodes w{.codes = {}, .scale = grid.scale, .zero_point = {}, .qmin = grid.qmin, .qmax = grid.qmax};
  for (int64_t c = 0; c < channels; ++c)
    w.zero_point.push_back(integer_zero_point(grid.offset[c], grid.scale[c], path + ".wq"));
  for (size_t i = 0; i < q.size(); ++i) {
    const int64_t c = channels == 1 ? 0 : static_cast<int64_t>(i) / inner;
    const double v = (q[i] - static_cast<double>(grid.offset[c])) / grid.scale[c];
    const double code = std::nearbyint(v);
    QAT_CHECK(std::abs(v - code) < 1e-2 && grid.qmin <= code && code <= grid.qmax, "onnx export: weight ", i,
              " of ", path, " (", q[i], ") is not on its quantizer's grid");
    w.codes.push_back(static_cast<int64_t>(code));
  }
  return w;
}

// Appends the graph of a module tree; each method returns the name of its output tensor.
class Exporter {
 public:
  explicit Exporter(onnx::GraphProto& graph) : graph_(graph) {}

  std::string normalize(const std::string& x, const OnnxExportOptions& options);
  std::string module(Module& m, const std::string& path, const std::string& x);

 private:
  std::string sequence(Module& m, const std::string& path, const std::string& x);
  std::string block(BasicBlock& b, const std::string& path, const std::string& x);
  std::string inverted_residual(InvertedResidual& b, const std::string& path, const std::string& x);
  std::string weighted(Module& m, BatchNorm2d* bn, const std::string& path, const std::string& x);
  std::string quantize_input(const Quantizer& aq, const std::string& path, const std::string& x);
  std::string weight(WeightedLayer& layer, QuantizedLayer* q, const std::optional<ChannelAffine>& fold,
                     const std::string& path);
  std::string bias(WeightedLayer& layer, const std::optional<ChannelAffine>& fold, const std::string& path);
  std::string clip(const std::string& x, float lo, float hi, const std::string& output);
  std::string activation(const Activation& a, const std::string& path, const std::string& x);
  std::string pool(Pool2d& p, const std::string& path, const std::string& x);

  OnnxGraph graph_;
};

// (x − mean)·(1/std) per channel, the arithmetic of the data loader.
std::string Exporter::normalize(const std::string& x, const OnnxExportOptions& o) {
  auto per_channel = [&](const std::vector<float>& v, float fallback, const char* field) {
    QAT_CHECK(v.size() <= 1 || static_cast<int64_t>(v.size()) == o.channels, "onnx export: ", v.size(), " ",
              field, " values for ", o.channels, " input channels");
    std::vector<float> out(o.channels, fallback);
    for (int64_t c = 0; c < o.channels; ++c) out[c] = v.empty() ? fallback : v[v.size() == 1 ? 0 : c];
    return out;
  };
  std::vector<float> inv_std = per_channel(o.stddev, 1.0f, "std");
  for (float& s : inv_std) s = 1.0f / s;
  const Shape dims{1, o.channels, 1, 1};
  const std::string centered =
      graph_
          .node("Sub", {x, graph_.floats("input.mean", dims, per_channel(o.mean, 0.0f, "mean"))},
                "input.centered")
          .output(0);
  return graph_.node("Mul", {centered, graph_.floats("input.inv_std", dims, inv_std)}, "input.normalized")
      .output(0);
}

std::string Exporter::module(Module& m, const std::string& path, const std::string& x) {
  if (dynamic_cast<Sequential*>(&m)) return sequence(m, path, x);
  if (auto* b = dynamic_cast<BasicBlock*>(&m)) return block(*b, path, x);
  if (auto* b = dynamic_cast<InvertedResidual*>(&m)) return inverted_residual(*b, path, x);
  if (is_weighted(m)) return weighted(m, nullptr, path, x);
  if (const auto* a = dynamic_cast<const Activation*>(&m)) return activation(*a, path, x);
  if (auto* p = dynamic_cast<Pool2d*>(&m)) return pool(*p, path, x);
  if (dynamic_cast<const Identity*>(&m) || dynamic_cast<const Dropout*>(&m)) return x;  // dropout: eval
  if (dynamic_cast<const Flatten*>(&m)) {
    onnx::NodeProto& n = graph_.node("Flatten", {x}, path);
    set_attribute(n, "axis", int64_t{1});
    return path;
  }
  QAT_CHECK(!dynamic_cast<const BatchNorm2d*>(&m), "onnx export: batch norm '", path,
            "' does not follow a convolution, so it cannot be folded");
  detail::fail("onnx export: unsupported module '", path, "' (", type_name(m), ")");
}

// Children in order; a weighted layer followed by a batch norm is exported as one folded layer.
std::string Exporter::sequence(Module& m, const std::string& path, const std::string& x) {
  const auto& children = m.children();
  std::string y = x;
  for (size_t i = 0; i < children.size(); ++i) {
    Module& c = *children[i].second;
    auto* bn = i + 1 < children.size() ? dynamic_cast<BatchNorm2d*>(children[i + 1].second.get()) : nullptr;
    if (is_weighted(c) && bn) {
      y = weighted(c, bn, join(path, children[i].first), y);
      ++i;
    } else {
      y = module(c, join(path, children[i].first), y);
    }
  }
  return y;
}

// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), as BasicBlock::forward computes it.
std::string Exporter::block(BasicBlock& b, const std::string& path, const std::string& x) {
  auto conv_bn = [&](const std::string& conv, const std::string& bn, const std::string& in) {
    auto* norm = dynamic_cast<BatchNorm2d*>(&child(b, bn, path));
    QAT_CHECK(norm, "onnx export: '", join(path, bn), "' is not a BatchNorm2d");
    return weighted(child(b, conv, path), norm, join(path, conv), in);
  };
  const std::string y = conv_bn("conv2", "bn2", conv_bn("conv1", "bn1", x));
  const std::string shortcut = module(child(b, "shortcut", path), join(path, "shortcut"), x);
  const std::string sum = graph_.node("Add", {y, shortcut}, join(path, "add")).output(0);
  return graph_.node("Relu", {sum}, join(path, "relu")).output(0);
}

// expand → dw → project with project_bn folded (InvertedResidual::forward's child order), plus x when
// the block is residual.
std::string Exporter::inverted_residual(InvertedResidual& b, const std::string& path, const std::string& x) {
  const std::string y = sequence(b, path, x);
  return b.residual() ? graph_.node("Add", {x, y}, join(path, "add")).output(0) : y;
}

// [quantized input →] Conv or Gemm with the (quantized, folded) weight and bias [→ Relu].
std::string Exporter::weighted(Module& m, BatchNorm2d* bn, const std::string& path, const std::string& x) {
  auto* q = dynamic_cast<QuantizedLayer*>(&m);
  WeightedLayer& layer = q ? q->layer() : dynamic_cast<WeightedLayer&>(m);
  const std::string input = q && q->input_quantizer() ? quantize_input(*q->input_quantizer(), path, x) : x;
  std::optional<ChannelAffine> fold;
  if (bn) fold = fold_batch_norm(*bn, layer.weight().dim(0), path);
  std::vector<std::string> inputs{input, weight(layer, q, fold, path)};
  if (const std::string b = bias(layer, fold, path); !b.empty()) inputs.push_back(b);
  if (const auto* conv = dynamic_cast<const Conv2d*>(&layer)) {
    const Conv2dOptions& o = conv->options();
    onnx::NodeProto& n = graph_.node("Conv", inputs, path);
    set_attribute(n, "kernel_shape", {o.kernel, o.kernel});
    set_attribute(n, "strides", {o.stride, o.stride});
    set_attribute(n, "pads", {o.padding, o.padding, o.padding, o.padding});
    set_attribute(n, "dilations", {o.dilation, o.dilation});
    set_attribute(n, "group", o.groups);
  } else {
    QAT_CHECK(dynamic_cast<const Linear*>(&layer) && !fold, "onnx export: unsupported layer '", path, "' (",
              type_name(layer), fold ? " followed by a batch norm" : "", ")");
    set_attribute(graph_.node("Gemm", inputs, path), "transB", int64_t{1});
  }
  return fold && fold->relu ? graph_.node("Relu", {path}, path + ".relu").output(0) : path;
}

// QuantizeLinear→DequantizeLinear on the input quantizer's grid in a u8/s8 container; a grid narrower
// than the container (e.g. 2 bits) clips to its own range first, as the quantizer does.
std::string Exporter::quantize_input(const Quantizer& aq, const std::string& path, const std::string& x) {
  const std::string what = path + ".aq";
  check_initialized(aq, what);
  const QuantGrid grid = aq.grid();
  QAT_CHECK(grid.scale.size() == 1 && grid.offset.size() == 1, "onnx export: ", what, " is not per-tensor");
  const float scale = grid.scale[0];
  const int64_t zp = integer_zero_point(grid.offset[0], scale, what);
  const OnnxIntegerType type = onnx_integer_type(std::min(grid.qmin, zp), std::max(grid.qmax, zp), 8, what);
  std::string in = x;
  if (grid.qmin > type.lo || grid.qmax < type.hi)
    in = clip(x, static_cast<float>(grid.qmin - zp) * scale, static_cast<float>(grid.qmax - zp) * scale,
              path + ".input_clip");
  const std::string s = graph_.floats(what + ".scale", {}, {scale});
  const std::string z = graph_.integers(what + ".zero_point", {}, {zp}, type);
  const std::string codes = graph_.node("QuantizeLinear", {in, s, z}, path + ".input_q").output(0);
  return graph_.node("DequantizeLinear", {codes, s, z}, path + ".input_dq").output(0);
}

// A float weight, or integer codes + DequantizeLinear; a folded batch norm scales output channel c by
// k[c]: code·s·k[c] keeps the codes and makes the scale per channel (axis 0).
std::string Exporter::weight(WeightedLayer& layer, QuantizedLayer* q,
                             const std::optional<ChannelAffine>& fold, const std::string& path) {
  const Shape& dims = layer.weight().shape();
  const int64_t out = dims[0], inner = layer.weight().numel() / out;
  if (!q || !q->weight_quantizer()) {
    std::vector<float> w = layer.weight().data().to_vector();
    if (fold)
      for (size_t i = 0; i < w.size(); ++i) w[i] *= fold->k[i / inner];
    return graph_.floats(path + ".weight", dims, w);
  }
  WeightCodes w = weight_codes(*q, path);
  const bool per_channel = fold || w.scale.size() > 1;
  if (per_channel && w.scale.size() == 1) {
    w.scale.assign(out, w.scale[0]);
    w.zero_point.assign(out, w.zero_point[0]);
  }
  if (fold)
    for (int64_t c = 0; c < out; ++c) w.scale[c] *= fold->k[c];
  const auto [zp_lo, zp_hi] = std::minmax_element(w.zero_point.begin(), w.zero_point.end());
  const OnnxIntegerType type =
      onnx_integer_type(std::min(w.qmin, *zp_lo), std::max(w.qmax, *zp_hi), 4, path + ".wq");
  const Shape channel_dims = per_channel ? Shape{out} : Shape{};
  onnx::NodeProto& n =
      graph_.node("DequantizeLinear",
                  {graph_.integers(path + ".weight_code", dims, w.codes, type),
                   graph_.floats(path + ".weight_scale", channel_dims, w.scale),
                   graph_.integers(path + ".weight_zero_point", channel_dims, w.zero_point, type)},
                  path + ".weight");
  if (per_channel) set_attribute(n, "axis", int64_t{0});
  return path + ".weight";
}

// The layer's bias through the folded batch norm: b·k + shift (empty name: no bias at all).
std::string Exporter::bias(WeightedLayer& layer, const std::optional<ChannelAffine>& fold,
                           const std::string& path) {
  const int64_t out = layer.weight().dim(0);
  if (!layer.bias().defined() && !fold) return "";
  std::vector<float> b =
      layer.bias().defined() ? layer.bias().data().to_vector() : std::vector<float>(out, 0.0f);
  if (fold)
    for (int64_t c = 0; c < out; ++c) b[c] = b[c] * fold->k[c] + fold->shift[c];
  return graph_.floats(path + ".bias", {out}, b);
}

std::string Exporter::clip(const std::string& x, float lo, float hi, const std::string& output) {
  return graph_
      .node("Clip", {x, graph_.floats(output + ".min", {}, {lo}), graph_.floats(output + ".max", {}, {hi})},
            output)
      .output(0);
}

std::string Exporter::activation(const Activation& a, const std::string& path, const std::string& x) {
  if (a.kind() == ActivationKind::relu) return graph_.node("Relu", {x}, path).output(0);
  if (a.kind() == ActivationKind::relu6) return clip(x, 0.0f, 6.0f, path);
  detail::fail("onnx export: activation '", path, "' is not ReLU or ReLU6");
}

std::string Exporter::pool(Pool2d& p, const std::string& path, const std::string& x) {
  QAT_CHECK(p.options().kind == PoolKind::global_average, "onnx export: pooling '", path,
            "' is not a global average pool (the only pooling exported)");
  return graph_.node("GlobalAveragePool", {x}, path).output(0);
}

void set_tensor_type(onnx::ValueInfoProto& v, const std::string& name, const Shape& dims) {
  v.set_name(name);
  onnx::TypeProto::Tensor& t = *v.mutable_type()->mutable_tensor_type();
  t.set_elem_type(onnx::TensorProto::FLOAT);
  for (size_t i = 0; i < dims.size(); ++i) {
    onnx::TensorShapeProto::Dimension& d = *t.mutable_shape()->add_dim();
    if (i == 0)
      d.set_dim_param("N");  // dynamic batch
    else
      d.set_dim_value(dims[i]);
  }
}

// The model's output shape for one sample (the quantizers are initialized by now, so this changes nothing).
Shape output_shape(Module& model, const OnnxExportOptions& o) {
  NoGrad no_grad;
  return model.forward(Variable(Tensor::zeros({1, o.channels, o.height, o.width}))).shape();
}

}  // namespace

onnx::ModelProto export_onnx(Module& model, const OnnxExportOptions& options) {
  model.eval();
  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.set_producer_name("qat");
  onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOpset);
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(options.name);
  set_tensor_type(*graph.add_input(), "input", {0, options.channels, options.height, options.width});
  Exporter exporter(graph);
  const std::string y = exporter.module(model, "", exporter.normalize("input", options));
  OnnxGraph(graph).node("Identity", {y}, "logits");
  set_tensor_type(*graph.add_output(), "logits", output_shape(model, options));
  return proto;
}

int64_t save_onnx(const onnx::ModelProto& model, const std::string& path) {
  std::string bytes;
  QAT_CHECK(model.SerializeToString(&bytes), "onnx export: ", path, ": serialization failed");
  write_file_atomically(path, bytes);
  return static_cast<int64_t>(bytes.size());
}

}  // namespace qat
