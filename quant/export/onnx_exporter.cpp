#include "quant/export/onnx_exporter.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "autograd/grad_mode.h"
#include "engine/atomic_file.h"
#include "engine/error.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/flatten.h"
#include "layers/identity.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/models/basic_block.h"
#include "layers/models/bert.h"
#include "layers/models/inverted_residual.h"
#include "layers/models/transformer_layer.h"
#include "layers/multi_head_attention.h"
#include "layers/pool2d.h"
#include "layers/sequential.h"
#include "quant/export/onnx_graph.h"
#include "quant/export/quantized_weight.h"
#include "quant/export/weight_dequantize.h"
#include "quant/fold_plan.h"
#include "quant/quantized_layer.h"

namespace qat {
namespace {

constexpr int64_t kIrVersion = 10;  // the first IR version with INT4/UINT4
constexpr int64_t kOpset = 21;      // the first opset whose QuantizeLinear/DequantizeLinear take int4

Module& child(const Module& m, const std::string& name, const std::string& path) {
  return child_of(m, name, path, "onnx export");
}

bool is_weighted(const Module& m) { return weighted_layer_of(m) != nullptr; }

// The values of the parameter `name` of `m` (a direct one, e.g. "weight").
std::vector<float> parameter_values(const Module& m, const std::string& name, const std::string& path) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p.data().to_vector();
  detail::fail("onnx export: '", path, "' has no parameter '", name, "'");
}

// The [cols, rows] transpose of a row-major [rows, cols] matrix.
template <typename T>
std::vector<T> transposed(const std::vector<T>& values, int64_t rows, int64_t cols) {
  std::vector<T> out(values.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = values[r * cols + c];
  return out;
}

template <typename M>
M& child_as(const Module& parent, const std::string& name, const std::string& path, const char* expected) {
  Module& c = child(parent, name, path);
  auto* typed = dynamic_cast<M*>(&c);
  QAT_CHECK(typed, "onnx export: '", child_path(path, name), "' is a ", module_type_name(c), ", expected a ",
            expected);
  return *typed;
}

void check_initialized(const Quantizer& q, const std::string& what) {
  QAT_CHECK(q.initialized(), what, ": quantizer not initialized (run a forward pass or load a checkpoint)");
}

// Appends the graph of a module tree; each method returns the name of its output tensor.
class Exporter {
 public:
  explicit Exporter(onnx::GraphProto& graph) : graph_(graph) {}

  std::string normalize(const std::string& x, const OnnxExportOptions& options);
  std::string module(Module& m, const std::string& path, const std::string& x);
  std::string bert(Bert& b, const std::string& ids, const std::string& mask);

 private:
  std::string sequence(Module& m, const std::string& path, const std::string& x);
  std::string block(BasicBlock& b, const std::string& path, const std::string& x);
  std::string inverted_residual(InvertedResidual& b, const std::string& path, const std::string& x);
  std::string weighted(const FoldStep& step, const std::string& x);
  std::string quantize_input(const Quantizer& aq, const std::string& path, const std::string& x);
  std::string weight(WeightedLayer& layer, QuantizedLayer* q, const std::optional<ChannelAffine>& fold,
                     const std::string& path);
  std::string dequantize_weight(const QuantizedWeight& w, const Shape& dims, std::optional<int64_t> axis,
                                const std::string& path);
  std::string record_matrix(const QuantizedWeight& w, const std::string& path, const std::string& output);
  std::string record_codes(const QuantizedWeight& w, const std::string& path);
  std::string dense_transform(const ptq::WeightTransform& t, bool transpose, const std::string& name);
  std::string bias(WeightedLayer& layer, const std::optional<ChannelAffine>& fold, const std::string& path);
  std::string clip(const std::string& x, float lo, float hi, const std::string& output);
  std::string activation(const Activation& a, const std::string& path, const std::string& x);
  std::string pool(Pool2d& p, const std::string& path, const std::string& x);
  std::string matmul_linear(Module& m, const std::string& path, const std::string& x);
  std::string matmul_weight(WeightedLayer& layer, QuantizedLayer* q, const std::string& path);
  std::string tap(Module& m, const std::string& path, const std::string& x);
  std::string layer_norm(LayerNorm& norm, const std::string& path, const std::string& x);
  std::string embeddings(Bert& b, const std::string& ids);
  std::string additive_mask(const std::string& mask);
  std::string transformer_layer(TransformerLayer& t, const std::string& path, const std::string& x,
                                const std::string& mask);
  std::string attention(MultiHeadAttention& a, const std::string& path, const std::string& x,
                        const std::string& mask);
  std::string head(const std::string& split, int64_t part, const std::vector<int64_t>& perm,
                   const std::string& path);
  std::string op(const std::string& type, const std::vector<std::string>& inputs, const std::string& output);

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
  if (is_weighted(m)) return weighted(single_step(m, path), x);
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
  detail::fail("onnx export: unsupported module '", path, "' (", module_type_name(m), ")");
}

// The steps of the chain's fold plan in order; a weighted layer with its batch norm is one folded layer.
std::string Exporter::sequence(Module& m, const std::string& path, const std::string& x) {
  std::string y = x;
  for (const FoldStep& step : fold_plan(m, path, true))
    y = step.weighted() ? weighted(step, y) : module(*step.module, step.path, y);
  return y;
}

// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), as BasicBlock::forward computes it.
std::string Exporter::block(BasicBlock& b, const std::string& path, const std::string& x) {
  const std::vector<FoldStep> plan = fold_plan(b, path, false);
  QAT_CHECK(plan.size() == 3 && plan[0].batch_norm && plan[1].batch_norm && !plan[2].weighted(),
            "onnx export: block '", path, "' is not conv1+bn1, conv2+bn2, shortcut");
  const std::string y = weighted(plan[1], weighted(plan[0], x));
  const std::string shortcut = module(*plan[2].module, plan[2].path, x);
  const std::string sum = graph_.node("Add", {y, shortcut}, child_path(path, "add")).output(0);
  return graph_.node("Relu", {sum}, child_path(path, "relu")).output(0);
}

// expand → dw → project with project_bn folded (InvertedResidual::forward's child order), plus x when
// the block is residual.
std::string Exporter::inverted_residual(InvertedResidual& b, const std::string& path, const std::string& x) {
  const std::string y = sequence(b, path, x);
  return b.residual() ? op("Add", {x, y}, child_path(path, "add")) : y;
}

// [quantized input →] Conv or Gemm with the (quantized, folded) weight and bias [→ Relu] [→ activation].
std::string Exporter::weighted(const FoldStep& step, const std::string& x) {
  const std::string& path = step.path;
  auto* q = dynamic_cast<QuantizedLayer*>(step.module);
  WeightedLayer& layer = *weighted_layer_of(*step.module);
  const std::string input = q && q->input_quantizer() ? quantize_input(*q->input_quantizer(), path, x) : x;
  std::optional<ChannelAffine> fold;
  if (step.batch_norm) fold = fold_batch_norm(*step.batch_norm, layer.weight().dim(0), path);
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
              module_type_name(layer), fold ? " followed by a batch norm" : "", ")");
    set_attribute(graph_.node("Gemm", inputs, path), "transB", int64_t{1});
  }
  const std::string y = fold && fold->relu ? graph_.node("Relu", {path}, path + ".relu").output(0) : path;
  return step.activation ? activation(*step.activation, step.activation_path, y) : y;
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
  const QuantizedWeight w = quantize_weight(*q, path, fold ? &*fold : nullptr);
  if (!ptq_field(w).empty()) {
    if (dims.size() == 2) return record_matrix(w, path, path + ".weight");
    return op("Reshape",
              {record_matrix(w, path, path + ".weight_matrix"),
               graph_.int64s(path + ".weight_shape", {static_cast<int64_t>(dims.size())}, dims)},
              path + ".weight");
  }
  const bool per_channel = fold || w.scale.size() > 1;
  return dequantize_weight(w, dims, per_channel ? std::optional<int64_t>(0) : std::nullopt, path);
}

// Codes of shape `dims` + DequantizeLinear with scales and zero points per channel along `axis` (or per
// tensor), in the narrowest container of at least 4 bits that holds the grid and its zero points.
std::string Exporter::dequantize_weight(const QuantizedWeight& w, const Shape& dims,
                                        std::optional<int64_t> axis, const std::string& path) {
  const auto [zp_lo, zp_hi] = std::minmax_element(w.zero_point.begin(), w.zero_point.end());
  const OnnxIntegerType type =
      onnx_integer_type(std::min(w.qmin, *zp_lo), std::max(w.qmax, *zp_hi), 4, path + ".wq");
  const Shape channel_dims = axis ? Shape{dims[*axis]} : Shape{};
  onnx::NodeProto& n =
      graph_.node("DequantizeLinear",
                  {graph_.integers(path + ".weight_code", dims, w.codes, type),
                   graph_.floats(path + ".weight_scale", channel_dims, w.scale),
                   graph_.integers(path + ".weight_zero_point", channel_dims, w.zero_point, type)},
                  path + ".weight");
  if (axis) set_attribute(n, "axis", *axis);
  return path + ".weight";
}

// A post-training record (PTQ.md, "Evaluation and export") as the [out, in] float weight named `output`,
// diag(row_scale)·Uᵀ·((c − z)·s)·V·diag(col_scale) as dequantize() computes it, built in the graph from
// initializers: the integer codes through DequantizeLinear, MatMul by the dense transforms, Mul by the
// column and row scales. The subgraph is constant (ONNX Runtime folds it when the session loads); the file
// keeps the integer codes, the transforms as float matrices.
std::string Exporter::record_matrix(const QuantizedWeight& w, const std::string& path,
                                    const std::string& output) {
  using Kind = ptq::WeightTransform::Kind;
  const int64_t m = w.out_channels(), d = static_cast<int64_t>(w.codes.size()) / m;
  const int steps =
      (w.out.kind != Kind::none) + (w.in.kind != Kind::none) + !w.col_scale.empty() + !w.row_scale.empty();
  std::string y = record_codes(w, path);
  int done = 0;
  auto apply = [&](const std::string& type, const std::vector<std::string>& inputs) {
    ++done;
    y = op(type, inputs, done == steps ? output : path + ".weight_step" + std::to_string(done));
  };
  if (w.out.kind != Kind::none) apply("MatMul", {dense_transform(w.out, true, path + ".transform_out_t"), y});
  if (w.in.kind != Kind::none) apply("MatMul", {y, dense_transform(w.in, false, path + ".transform_in")});
  if (!w.col_scale.empty()) apply("Mul", {y, graph_.floats(path + ".col_scale", {1, d}, w.col_scale)});
  if (!w.row_scale.empty()) apply("Mul", {y, graph_.floats(path + ".row_scale", {m, 1}, w.row_scale)});
  return steps == 0 ? op("Identity", {y}, output) : y;
}

// The record's ((c − z)·s) as [out, in]: its integer codes and one DequantizeLinear — per row or tensor,
// blocked along the input axis with groups (block_size g, scales [out, ⌈in/g⌉]), block size 1 for BAQ's
// per-column levels, whose per-element zero points are integers beside the codes and whose steps
// (hi_r − lo_r)/(n_j − 1) are the product of a row range and a column factor, computed in the graph.
std::string Exporter::record_codes(const QuantizedWeight& w, const std::string& path) {
  const int64_t m = w.out_channels(), d = static_cast<int64_t>(w.codes.size()) / m;
  Shape grid_dims;
  std::vector<float> steps = w.scale;
  std::vector<int64_t> zeros = w.zero_point;
  std::optional<int64_t> axis, block;
  if (!w.levels.empty()) {
    grid_dims = {m, d};
    axis = 1;
    block = 1;
    zeros.clear();
    for (int64_t r = 0; r < m; ++r)
      for (int64_t j = 0; j < d; ++j) zeros.push_back(static_cast<int64_t>(element_grid(w, r, j).zero));
  } else if (w.group_size > 0) {
    grid_dims = {m, (d + w.group_size - 1) / w.group_size};
    axis = 1;
    block = w.group_size;
  } else if (w.scale.size() > 1) {
    grid_dims = {m};
    axis = 0;
  }
  const auto [code_lo, code_hi] = std::minmax_element(w.codes.begin(), w.codes.end());
  const auto [zp_lo, zp_hi] = std::minmax_element(zeros.begin(), zeros.end());
  const OnnxIntegerType type =
      onnx_integer_type(std::min(*code_lo, *zp_lo), std::max(*code_hi, *zp_hi), 4, path + ".wq");
  std::string scale;
  if (!w.levels.empty()) {
    std::vector<float> range(m), factor(d);
    for (int64_t r = 0; r < m; ++r) range[r] = w.row_hi[r] - w.row_lo[r];
    // n_j ≤ 1: a column of zeros (code 0, zero point 0) whatever its step.
    for (int64_t j = 0; j < d; ++j)
      factor[j] = w.levels[j] > 1 ? 1.0f / static_cast<float>(w.levels[j] - 1) : 0.0f;
    scale = op("Mul",
               {graph_.floats(path + ".weight_row_range", {m, 1}, range),
                graph_.floats(path + ".weight_level_step", {1, d}, factor)},
               path + ".weight_scale");
  } else {
    scale = graph_.floats(path + ".weight_scale", grid_dims, steps);
  }
  onnx::NodeProto& n = graph_.node("DequantizeLinear",
                                   {graph_.integers(path + ".weight_code", {m, d}, w.codes, type), scale,
                                    graph_.integers(path + ".weight_zero_point", grid_dims, zeros, type)},
                                   path + ".weight_dequantized");
  if (axis) set_attribute(n, "axis", *axis);
  if (block) set_attribute(n, "block_size", *block);
  return n.output(0);
}

// The dense n×n matrix of a transform (its transpose with `transpose`) as a float initializer.
std::string Exporter::dense_transform(const ptq::WeightTransform& t, bool transpose,
                                      const std::string& name) {
  Eigen::MatrixXd q = Eigen::MatrixXd::Identity(t.n, t.n);
  if (transpose)
    ptq::apply_transform_transpose(t, q);
  else
    ptq::apply_transform(t, q);
  std::vector<float> values(t.n * t.n);
  for (int64_t r = 0; r < t.n; ++r)
    for (int64_t c = 0; c < t.n; ++c) values[r * t.n + c] = static_cast<float>(q(r, c));
  return graph_.floats(name, {t.n, t.n}, values);
}

// The layer's bias through the folded batch norm: b·k + shift (empty name: no bias at all).
std::string Exporter::bias(WeightedLayer& layer, const std::optional<ChannelAffine>& fold,
                           const std::string& path) {
  const std::vector<float> b = folded_bias(layer, fold ? &*fold : nullptr);
  if (b.empty()) return "";
  return graph_.floats(path + ".bias", {layer.weight().dim(0)}, b);
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

std::string Exporter::op(const std::string& type, const std::vector<std::string>& inputs,
                         const std::string& output) {
  return graph_.node(type, inputs, output).output(0);
}

// A Linear on [N, L, in] (Gemm takes matrices only): MatMul with the [in, out] weight, then Add the bias.
std::string Exporter::matmul_linear(Module& m, const std::string& path, const std::string& x) {
  QAT_CHECK(is_weighted(m), "onnx export: '", path, "' is a ", module_type_name(m), ", expected a Linear");
  auto* q = dynamic_cast<QuantizedLayer*>(&m);
  WeightedLayer& layer = *weighted_layer_of(m);
  QAT_CHECK(dynamic_cast<const Linear*>(&layer), "onnx export: '", path, "' is a ", module_type_name(layer),
            ", expected a Linear");
  const std::string input = q && q->input_quantizer() ? quantize_input(*q->input_quantizer(), path, x) : x;
  const std::string product = op("MatMul", {input, matmul_weight(layer, q, path)}, path + ".matmul");
  const std::string b = bias(layer, std::nullopt, path);
  return b.empty() ? product : op("Add", {product, b}, path);
}

// A Linear's weight [out, in] as the [in, out] right operand of MatMul: float, or the integer codes
// transposed + DequantizeLinear whose per-output-channel scales now run along axis 1.
std::string Exporter::matmul_weight(WeightedLayer& layer, QuantizedLayer* q, const std::string& path) {
  const int64_t out = layer.weight().dim(0), in = layer.weight().dim(1);
  if (!q || !q->weight_quantizer())
    return graph_.floats(path + ".weight", {in, out}, transposed(layer.weight().data().to_vector(), out, in));
  QuantizedWeight w = quantize_weight(*q, path);
  if (!ptq_field(w).empty()) {
    onnx::NodeProto& t =
        graph_.node("Transpose", {record_matrix(w, path, path + ".weight_matrix")}, path + ".weight");
    set_attribute(t, "perm", std::vector<int64_t>{1, 0});
    return t.output(0);
  }
  w.codes = transposed(w.codes, out, in);
  return dequantize_weight(w, {in, out}, w.scale.size() > 1 ? std::optional<int64_t>(1) : std::nullopt, path);
}

// An attention tap: the Identity passes x through, the activation quantizer put in its place becomes Q/DQ.
std::string Exporter::tap(Module& m, const std::string& path, const std::string& x) {
  if (dynamic_cast<const Identity*>(&m)) return x;
  if (const auto* q = dynamic_cast<const Quantizer*>(&m)) return quantize_input(*q, path, x);
  detail::fail("onnx export: unsupported module '", path, "' (", module_type_name(m),
               ") at an attention input");
}

std::string Exporter::layer_norm(LayerNorm& norm, const std::string& path, const std::string& x) {
  const Shape dims{norm.options().dim};
  onnx::NodeProto& n =
      graph_.node("LayerNormalization",
                  {x, graph_.floats(path + ".weight", dims, parameter_values(norm, "weight", path)),
                   graph_.floats(path + ".bias", dims, parameter_values(norm, "bias", path))},
                  path);
  set_attribute(n, "axis", int64_t{-1});
  set_attribute(n, "epsilon", norm.options().eps);
  return path;
}

// tok[ids] + pos[0 .. L − 1], the position rows broadcast over the batch (Bert::encode).
std::string Exporter::embeddings(Bert& b, const std::string& ids) {
  auto table = [&](const std::string& name) {
    const auto& e = child_as<Embedding>(b, name, "", "Embedding");
    return graph_.floats(name + ".weight", {e.options().vocab, e.options().dim},
                         parameter_values(e, "weight", name));
  };
  const std::string tokens = op("Gather", {table("tok"), ids}, "tok");
  const std::string shape = op("Shape", {ids}, "input_ids.shape");
  const std::string length = op("Gather", {shape, graph_.int64s("input_ids.length_axis", {}, {1})}, "length");
  const std::string positions = op(
      "Range", {graph_.int64s("positions.start", {}, {0}), length, graph_.int64s("positions.delta", {}, {1})},
      "positions");
  return op("Add", {tokens, op("Gather", {table("pos"), positions}, "pos")}, "embedded");
}

// [N, 1, 1, L]: 0 where the mask is nonzero, kBertMaskedScore where it is 0, as Bert adds it to the scores.
std::string Exporter::additive_mask(const std::string& mask) {
  const std::string padding = op("Equal", {mask, graph_.int64s("mask.zero", {}, {0})}, "mask.padding");
  const std::string scores = op("Where",
                                {padding, graph_.floats("mask.masked_score", {}, {kBertMaskedScore}),
                                 graph_.floats("mask.kept_score", {}, {0.0f})},
                                "mask.scores");
  return op("Unsqueeze", {scores, graph_.int64s("mask.axes", {2}, {1, 2})}, "mask.additive");
}

// x = n1(x + attn(x)); x = n2(x + f2(gelu(f1(x)))), dropout being the identity in evaluation.
std::string Exporter::transformer_layer(TransformerLayer& t, const std::string& path, const std::string& x,
                                        const std::string& mask) {
  for (const char* name : {"drop1", "drop2"}) child_as<Dropout>(t, name, path, "Dropout");
  const std::string attended = attention(child_as<MultiHeadAttention>(t, "attn", path, "MultiHeadAttention"),
                                         child_path(path, "attn"), x, mask);
  const std::string y = layer_norm(child_as<LayerNorm>(t, "n1", path, "LayerNorm"), child_path(path, "n1"),
                                   op("Add", {x, attended}, child_path(path, "residual1")));
  // Gelu (opset 20) with its default approximate="none" is the erf form our gelu computes.
  const std::string hidden =
      op("Gelu", {matmul_linear(child(t, "f1", path), child_path(path, "f1"), y)}, child_path(path, "gelu"));
  const std::string ffn = matmul_linear(child(t, "f2", path), child_path(path, "f2"), hidden);
  return layer_norm(child_as<LayerNorm>(t, "n2", path, "LayerNorm"), child_path(path, "n2"),
                    op("Add", {y, ffn}, child_path(path, "residual2")));
}

// Part `part` (0 q, 1 k, 2 v) of qkv viewed as [N, L, 3, heads, d], transposed by `perm`.
std::string Exporter::head(const std::string& split, int64_t part, const std::vector<int64_t>& perm,
                           const std::string& path) {
  onnx::NodeProto& gather = graph_.node("Gather", {split, graph_.int64s(path + ".part", {}, {part})}, path);
  set_attribute(gather, "axis", int64_t{2});
  onnx::NodeProto& transpose = graph_.node("Transpose", {path}, path + ".heads");
  set_attribute(transpose, "perm", perm);
  return transpose.output(0);
}

// out(softmax(q·kᵀ/sqrt(d) + mask)·v) per head, in MultiHeadAttention::forward's order: the taps see q, k
// and v split into heads (k already transposed, which a per-tensor quantizer does not notice), q is
// scaled after its tap, the mask is added before the softmax.
std::string Exporter::attention(MultiHeadAttention& a, const std::string& path, const std::string& x,
                                const std::string& mask) {
  const int64_t hidden = a.options().hidden, heads = a.options().heads, d = hidden / heads;
  const std::string qkv = matmul_linear(child(a, "qkv", path), child_path(path, "qkv"), x);
  const std::string split =
      op("Reshape", {qkv, graph_.int64s(child_path(path, "split.shape"), {5}, {0, 0, 3, heads, d})},
         child_path(path, "split"));
  auto operand = [&](int64_t part, const char* name, const std::vector<int64_t>& perm) {
    return tap(child(a, name, path), child_path(path, name),
               head(split, part, perm, child_path(path, name) + ".split"));
  };
  const std::string q = operand(0, "q_in", {0, 2, 1, 3});
  const std::string k_t = operand(1, "k_in", {0, 2, 3, 1});
  const std::string v = operand(2, "v_in", {0, 2, 1, 3});
  const float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(d));  // as MultiHeadAttention computes it
  const std::string scaled = op("Mul", {q, graph_.floats(child_path(path, "inv_sqrt_d"), {}, {inv_sqrt_d})},
                                child_path(path, "q_scaled"));
  const std::string scores = op("MatMul", {scaled, k_t}, child_path(path, "scores"));
  onnx::NodeProto& softmax = graph_.node(
      "Softmax", {op("Add", {scores, mask}, child_path(path, "masked_scores"))}, child_path(path, "softmax"));
  set_attribute(softmax, "axis", int64_t{-1});
  const std::string probs = tap(child(a, "probs_in", path), child_path(path, "probs_in"), softmax.output(0));
  onnx::NodeProto& merge = graph_.node("Transpose", {op("MatMul", {probs, v}, child_path(path, "context"))},
                                       child_path(path, "context.tokens"));
  set_attribute(merge, "perm", std::vector<int64_t>{0, 2, 1, 3});
  const std::string merged =
      op("Reshape", {merge.output(0), graph_.int64s(child_path(path, "merge.shape"), {3}, {0, 0, hidden})},
         child_path(path, "merged"));
  return matmul_linear(child(a, "out", path), child_path(path, "out"), merged);
}

// norm(embeddings) → transformer layers → cls_head on the first token's hidden state (Bert::classify).
std::string Exporter::bert(Bert& b, const std::string& ids, const std::string& mask) {
  std::string x = layer_norm(child_as<LayerNorm>(b, "norm", "", "LayerNorm"), "norm", embeddings(b, ids));
  const std::string additive = additive_mask(mask);
  const Module& layers = child(b, "layers", "");
  for (const auto& [name, layer] : layers.children()) {
    const std::string path = child_path("layers", name);
    auto* t = dynamic_cast<TransformerLayer*>(layer.get());
    QAT_CHECK(t, "onnx export: '", path, "' is a ", module_type_name(*layer),
              ", expected a TransformerLayer");
    x = transformer_layer(*t, path, x, additive);
  }
  onnx::NodeProto& first = graph_.node("Gather", {x, graph_.int64s("cls_token.index", {}, {0})}, "cls_token");
  set_attribute(first, "axis", int64_t{1});
  return weighted(single_step(child(b, "cls_head", ""), "cls_head"), first.output(0));
}

// A tensor's type; dimension 0 is the dynamic batch "N", and with `dynamic_length` dimension 1 is the
// dynamic sequence length "L".
void set_tensor_type(onnx::ValueInfoProto& v, const std::string& name, int32_t elem_type, const Shape& dims,
                     bool dynamic_length = false) {
  v.set_name(name);
  onnx::TypeProto::Tensor& t = *v.mutable_type()->mutable_tensor_type();
  t.set_elem_type(elem_type);
  for (size_t i = 0; i < dims.size(); ++i) {
    onnx::TensorShapeProto::Dimension& d = *t.mutable_shape()->add_dim();
    if (i == 0)
      d.set_dim_param("N");
    else if (i == 1 && dynamic_length)
      d.set_dim_param("L");
    else
      d.set_dim_value(dims[i]);
  }
}

// The model's output shape for one sample (the quantizers are initialized by now, so this changes nothing).
Shape output_shape(Module& model, const OnnxExportOptions& o) {
  NoGrad no_grad;
  return model.forward(Variable(Tensor::zeros({1, o.channels, o.height, o.width}))).shape();
}

// An empty model of our IR version and opset with a graph named `name`.
onnx::ModelProto empty_model(const std::string& name) {
  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.set_producer_name("qat");
  onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOpset);
  proto.mutable_graph()->set_name(name);
  return proto;
}

}  // namespace

onnx::ModelProto export_onnx(Module& model, const OnnxExportOptions& options) {
  if (auto* bert = dynamic_cast<Bert*>(&model)) return export_onnx(*bert, options.name);
  model.eval();
  onnx::ModelProto proto = empty_model(options.name);
  onnx::GraphProto& graph = *proto.mutable_graph();
  set_tensor_type(*graph.add_input(), "input", onnx::TensorProto::FLOAT,
                  {0, options.channels, options.height, options.width});
  Exporter exporter(graph);
  const std::string y = exporter.module(model, "", exporter.normalize("input", options));
  OnnxGraph(graph).node("Identity", {y}, "logits");
  set_tensor_type(*graph.add_output(), "logits", onnx::TensorProto::FLOAT, output_shape(model, options));
  return proto;
}

onnx::ModelProto export_onnx(Bert& model, const std::string& name) {
  QAT_CHECK(model.options().head == BertHead::classify,
            "onnx export: only BERT's classification head is exported (this model runs the masked-LM head)");
  model.eval();
  onnx::ModelProto proto = empty_model(name);
  onnx::GraphProto& graph = *proto.mutable_graph();
  for (const char* input : {"input_ids", "attention_mask"})
    set_tensor_type(*graph.add_input(), input, onnx::TensorProto::INT64, {0, 0}, true);
  Exporter exporter(graph);
  OnnxGraph(graph).node("Identity", {exporter.bert(model, "input_ids", "attention_mask")}, "logits");
  set_tensor_type(*graph.add_output(), "logits", onnx::TensorProto::FLOAT, {0, model.options().num_classes});
  return proto;
}

int64_t save_onnx(const onnx::ModelProto& model, const std::string& path) {
  std::string bytes;
  QAT_CHECK(model.SerializeToString(&bytes), "onnx export: ", path, ": serialization failed");
  write_file_atomically(path, bytes);
  return static_cast<int64_t>(bytes.size());
}

}  // namespace qat
