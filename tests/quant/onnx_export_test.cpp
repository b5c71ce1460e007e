// ONNX export of LSQ-quantized ResNet-20, MobileNetV2 and BERT: the files parse back as opset 21 with dynamic
// batch (and sequence) dimensions, 4-bit weights as packed INT4 codes (the quantizer's own codes) with
// per-channel scales (folded from batch norm for convolutions, on axis 1 of the transposed weights of
// MatMul), one QuantizeLinear→DequantizeLinear per quantized input; unsupported modules name themselves.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "autograd/grad_mode.h"
#include "engine/random.h"
#include "layers/activation.h"
#include "layers/conv2d.h"
#include "layers/layer_norm.h"
#include "layers/models/bert.h"
#include "layers/models/inverted_residual.h"
#include "layers/models/mobilenet_v2.h"
#include "layers/models/resnet.h"
#include "layers/sequential.h"
#include "quant/export/onnx_exporter.h"
#include "quant/quant_policy.h"
#include "tests/test_util.h"

namespace qat {
namespace {

constexpr int32_t kInt4 = 22, kInt8 = 3, kUint8 = 2, kInt64 = 7, kFloat = 1;

struct Exported {
  std::shared_ptr<Module> model;
  QuantizedModel quantized;
  onnx::ModelProto proto;  // parsed back from the serialized bytes
};

// ResNet-20 with LSQ W4A4 (first and last layers 8-bit), quantizers initialized by one forward pass.
Exported export_resnet20() {
  manual_seed(1);
  Exported e{.model = resnet20(1, 10), .quantized = {}, .proto = {}};
  QuantPolicy policy;
  policy.method = "lsq";
  policy.weight_bits = policy.act_bits = 4;
  e.quantized = quant::apply(*e.model, policy);
  {
    NoGrad no_grad;
    e.model->forward(Variable(Generator(3).uniform_tensor({8, 1, 28, 28}, 0.0f, 1.0f)));
  }
  std::string bytes;
  EXPECT_TRUE(export_onnx(*e.model, {.mean = {0.286f}, .stddev = {0.353f}}).SerializeToString(&bytes));
  EXPECT_TRUE(e.proto.ParseFromString(bytes));
  return e;
}

const onnx::TensorProto& initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return t;
  throw Error("no initializer " + name);
}

const onnx::NodeProto& node(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& n : g.node())
    if (n.name() == name) return n;
  throw Error("no node " + name);
}

onnx::ModelProto parse_back(const onnx::ModelProto& model) {
  std::string bytes;
  EXPECT_TRUE(model.SerializeToString(&bytes));
  onnx::ModelProto parsed;
  EXPECT_TRUE(parsed.ParseFromString(bytes));
  return parsed;
}

int64_t int_attribute(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  throw Error("node " + n.name() + " has no attribute " + name);
}

std::map<std::string, int> op_counts(const onnx::GraphProto& g) {
  std::map<std::string, int> counts;
  for (const auto& n : g.node()) ++counts[n.op_type()];
  return counts;
}

// Signed 4-bit values packed two per byte, low nibble first.
std::vector<int64_t> unpack_int4(const std::string& raw, int64_t count) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < count; ++i) {
    const int nibble = (static_cast<unsigned char>(raw[i / 2]) >> (i % 2 == 0 ? 0 : 4)) & 0xF;
    out.push_back(nibble >= 8 ? nibble - 16 : nibble);
  }
  return out;
}

TEST(OnnxExport, Resnet20HeaderInputAndOutput) {
  const Exported e = export_resnet20();
  EXPECT_EQ(e.proto.ir_version(), 10);
  ASSERT_EQ(e.proto.opset_import_size(), 1);
  EXPECT_EQ(e.proto.opset_import(0).version(), 21);
  const onnx::GraphProto& g = e.proto.graph();
  ASSERT_EQ(g.input_size(), 1);
  const auto& dims = g.input(0).type().tensor_type().shape().dim();
  ASSERT_EQ(dims.size(), 4);
  EXPECT_TRUE(dims[0].has_dim_param()) << "the batch dimension is dynamic";
  EXPECT_EQ(dims[1].dim_value(), 1);
  EXPECT_EQ(dims[2].dim_value(), 28);
  EXPECT_EQ(dims[3].dim_value(), 28);
  ASSERT_GE(g.output_size(), 1);
  EXPECT_EQ(g.output(0).name(), "logits");
  EXPECT_EQ(g.output(0).type().tensor_type().shape().dim(1).dim_value(), 10);
}

TEST(OnnxExport, Resnet20QdqStructureWithBatchNormFolded) {
  const Exported e = export_resnet20();
  const std::map<std::string, int> ops = op_counts(e.proto.graph());
  const int layers = static_cast<int>(e.quantized.layers.size());  // 22; the stem reads the image
  EXPECT_EQ(ops.count("BatchNormalization"), 0u);
  EXPECT_EQ(ops.at("QuantizeLinear"), layers - 1);
  EXPECT_EQ(ops.at("DequantizeLinear"), 2 * layers - 1);  // every weight and every quantized input
  EXPECT_EQ(ops.at("Clip"), layers - 2);  // 4-bit inputs in uint8 clip to their grid; the 8-bit fc's does not
  EXPECT_EQ(ops.at("Conv"), layers - 1);
  EXPECT_EQ(ops.at("Gemm"), 1);
  EXPECT_EQ(ops.at("Add"), 9);  // one residual per block
}

TEST(OnnxExport, Resnet20WeightsAreTheQuantizersInt4CodesWithFoldedPerChannelScales) {
  const Exported e = export_resnet20();
  const onnx::GraphProto& g = e.proto.graph();
  for (const QuantizedSite& site : e.quantized.layers) {
    const int bits = site.layer->weight_quantizer()->bits();
    EXPECT_EQ(initializer(g, site.path + ".weight_code").data_type(), bits == 4 ? kInt4 : kInt8) << site.path;
  }
  EXPECT_EQ(initializer(g, "fc.aq.zero_point").data_type(), kUint8);

  // layer1_0.conv1: codes = q(W)/step, scale = step·γ/σ per output channel on axis 0.
  const QuantizedSite& site = e.quantized.layers[1];
  ASSERT_EQ(site.path, "layer1_0.conv1");
  const Variable& w = site.layer->layer().weight();
  std::vector<float> q;
  {
    NoGrad no_grad;
    q = site.layer->effective_weight().data().to_vector();
  }
  const float step = site.layer->weight_quantizer()->grid().scale[0];
  const onnx::TensorProto& codes = initializer(g, "layer1_0.conv1.weight_code");
  ASSERT_EQ(codes.raw_data().size(), static_cast<size_t>((w.numel() + 1) / 2));
  const std::vector<int64_t> unpacked = unpack_int4(codes.raw_data(), w.numel());
  for (int64_t i = 0; i < w.numel(); ++i) ASSERT_EQ(unpacked[i], std::lround(q[i] / step)) << i;

  const onnx::TensorProto& scale = initializer(g, "layer1_0.conv1.weight_scale");
  ASSERT_EQ(scale.dims_size(), 1);
  ASSERT_EQ(scale.dims(0), 16);
  std::map<std::string, std::vector<float>> bn;
  Module& block = *e.model->children()[2].second;  // stem, stem_bn, layer1_0
  for (const auto& [name, child] : block.children())
    if (name == "bn1") {
      for (const auto& [n, p] : child->named_parameters()) bn[n] = p.data().to_vector();
      for (const auto& [n, t] : child->named_buffers()) bn[n] = t->to_vector();
    }
  for (int c = 0; c < 16; ++c)
    EXPECT_NEAR(scale.float_data(c), step * bn["weight"][c] / std::sqrt(bn["running_var"][c] + 1e-5f), 1e-6f);
  const onnx::NodeProto& dq = node(g, "layer1_0.conv1.weight");
  EXPECT_EQ(dq.op_type(), "DequantizeLinear");
  ASSERT_EQ(dq.attribute_size(), 1);
  EXPECT_EQ(dq.attribute(0).name(), "axis");
  EXPECT_EQ(dq.attribute(0).i(), 0);
}

TEST(OnnxExport, ErrorsNameTheLayer) {
  manual_seed(1);
  auto model = resnet20(1, 10);
  QuantPolicy policy;
  policy.method = "lsq";
  quant::apply(*model, policy);
  EXPECT_NE(test::error_of([&] { export_onnx(*model, {}); }).find("stem.wq: quantizer not initialized"),
            std::string::npos);

  Sequential head;
  head.add("norm", std::make_shared<LayerNorm>(LayerNormOptions{.dim = 28}));
  const std::string unsupported = test::error_of([&] { export_onnx(head, {}); });
  EXPECT_NE(unsupported.find("unsupported module 'norm' (qat::LayerNorm)"), std::string::npos) << unsupported;
  Sequential gelu;
  gelu.add("act", std::make_shared<Activation>(ActivationKind::gelu));
  EXPECT_NE(test::error_of([&] { export_onnx(gelu, {}); }).find("activation 'act' is not ReLU or ReLU6"),
            std::string::npos);
}

// A tiny MobileNetV2 (width 0.25) with LSQ W4A4, depthwise weights at 3 bits, quantizers initialized.
Exported export_mobilenet_v2() {
  manual_seed(2);
  Exported e{.model = mobilenet_v2({.width = 0.25, .in_channels = 1, .num_classes = 10}),
             .quantized = {},
             .proto = {}};
  QuantPolicy policy;
  policy.method = "lsq";
  policy.weight_bits = policy.act_bits = 4;
  policy.rules.push_back({.name_pattern = "", .layer_type = "depthwise", .weight_bits = 3, .act_bits = {}});
  e.quantized = quant::apply(*e.model, policy);
  {
    NoGrad no_grad;
    e.model->forward(Variable(Generator(3).uniform_tensor({4, 1, 28, 28}, 0.0f, 1.0f)));
  }
  e.proto = parse_back(export_onnx(*e.model, {.mean = {0.286f}, .stddev = {0.353f}}));
  return e;
}

int count_relu6(const Module& m) {
  int n = 0;
  for (const auto& [name, c] : m.children()) {
    const auto* a = dynamic_cast<const Activation*>(c.get());
    n += (a && a->kind() == ActivationKind::relu6) + count_relu6(*c);
  }
  return n;
}

TEST(OnnxExport, MobileNetV2QdqStructureWithDepthwiseGroupsAndResiduals) {
  const Exported e = export_mobilenet_v2();
  const onnx::GraphProto& g = e.proto.graph();
  ASSERT_EQ(g.input_size(), 1);
  EXPECT_TRUE(g.input(0).type().tensor_type().shape().dim(0).has_dim_param()) << "the batch is dynamic";
  EXPECT_EQ(g.output(0).name(), "logits");
  EXPECT_EQ(g.output(0).type().tensor_type().shape().dim(1).dim_value(), 10);

  const std::map<std::string, int> ops = op_counts(g);
  const int layers = static_cast<int>(e.quantized.layers.size());
  int inputs = 0, narrow_inputs = 0, residuals = 0;
  for (const QuantizedSite& site : e.quantized.layers)
    if (const Quantizer* aq = site.layer->input_quantizer()) {
      ++inputs;
      narrow_inputs += aq->bits() < 8;
    }
  for (const auto& [name, c] : e.model->children())
    if (const auto* block = dynamic_cast<const InvertedResidual*>(c.get())) residuals += block->residual();
  EXPECT_EQ(inputs, layers - 1);  // the stem reads the image
  EXPECT_EQ(ops.count("BatchNormalization"), 0u);
  EXPECT_EQ(ops.at("QuantizeLinear"), inputs);
  EXPECT_EQ(ops.at("DequantizeLinear"), layers + inputs);
  EXPECT_EQ(ops.at("Conv"), layers - 1);
  EXPECT_EQ(ops.at("Gemm"), 1);
  EXPECT_EQ(ops.at("Add"), residuals);
  EXPECT_GE(residuals, 10);                                          // stride-1 blocks that keep their width
  EXPECT_EQ(ops.at("Clip"), count_relu6(*e.model) + narrow_inputs);  // ReLU6, then each narrow input grid
  EXPECT_EQ(ops.at("GlobalAveragePool"), 1);

  int depthwise = 0;
  for (const QuantizedSite& site : e.quantized.layers) {
    const int bits = site.layer->weight_quantizer()->bits();
    EXPECT_EQ(initializer(g, site.path + ".weight_code").data_type(), bits <= 4 ? kInt4 : kInt8) << site.path;
    const auto* conv = dynamic_cast<const Conv2d*>(&site.layer->layer());
    if (!conv || conv->options().groups == 1) continue;
    ++depthwise;
    EXPECT_EQ(bits, 3) << site.path;
    EXPECT_EQ(int_attribute(node(g, site.path), "group"), conv->options().out) << site.path;
    EXPECT_EQ(initializer(g, site.path + ".weight_code").dims(1), 1) << site.path;
  }
  EXPECT_EQ(depthwise, 17);
}

// A 2-layer BERT classifier (hidden 32) with LSQ W4A4, per-channel weights and quantized attention inputs,
// initialized by one forward pass over padded ids.
struct ExportedBert {
  std::shared_ptr<Bert> model;
  QuantizedModel quantized;
  onnx::ModelProto proto;
};

ExportedBert export_bert() {
  manual_seed(4);
  ExportedBert e{
      .model = std::make_shared<Bert>(BertOptions{
          .stack =
              {.vocab = 40, .hidden = 32, .layers = 2, .heads = 2, .ffn = 64, .max_len = 16, .pad_id = 0},
          .num_classes = 5,
          .head = BertHead::classify}),
      .quantized = {},
      .proto = {}};
  QuantPolicy policy;
  policy.method = "lsq";
  policy.weight_bits = policy.act_bits = 4;
  policy.quantize_attention = true;
  policy.weight.per_channel = true;
  e.quantized = quant::apply(*e.model, policy);
  Tensor ids = Tensor::empty({3, 12}, DType::s32);
  for (int64_t i = 0; i < ids.numel(); ++i)
    ids.data<int32_t>()[i] = i % 12 < 9 - i / 12 ? 1 + (7 * i) % 39 : 0;
  {
    NoGrad no_grad;
    e.model->forward(Variable(ids));
  }
  e.proto = parse_back(export_onnx(*e.model, "tiny_bert"));
  return e;
}

TEST(OnnxExport, BertInputsAreInt64IdsAndMaskWithDynamicBatchAndLength) {
  const ExportedBert e = export_bert();
  const onnx::GraphProto& g = e.proto.graph();
  EXPECT_EQ(e.proto.opset_import(0).version(), 21);
  ASSERT_EQ(g.input_size(), 2);
  const char* names[] = {"input_ids", "attention_mask"};
  for (int i = 0; i < 2; ++i) {
    const auto& type = g.input(i).type().tensor_type();
    EXPECT_EQ(g.input(i).name(), names[i]);
    EXPECT_EQ(type.elem_type(), kInt64) << names[i];
    ASSERT_EQ(type.shape().dim_size(), 2) << names[i];
    EXPECT_EQ(type.shape().dim(0).dim_param(), "N") << names[i];
    EXPECT_EQ(type.shape().dim(1).dim_param(), "L") << names[i];
  }
  ASSERT_EQ(g.output_size(), 1);
  EXPECT_EQ(g.output(0).name(), "logits");
  EXPECT_EQ(g.output(0).type().tensor_type().elem_type(), kFloat);
  EXPECT_EQ(g.output(0).type().tensor_type().shape().dim(1).dim_value(), 5);
}

TEST(OnnxExport, BertQdqOnEveryQuantizedLinearAndAttentionInput) {
  const ExportedBert e = export_bert();
  const onnx::GraphProto& g = e.proto.graph();
  const std::map<std::string, int> ops = op_counts(g);
  // The classifier runs every quantized linear layer but the unused masked-LM head.
  int layers = 0, inputs = 0;
  for (const QuantizedSite& site : e.quantized.layers) {
    if (site.path == "mlm_head") continue;
    ++layers;
    inputs += site.layer->input_quantizer() != nullptr;
  }
  const int taps = static_cast<int>(e.quantized.attention.size());
  EXPECT_EQ(layers, 4 * 2 + 1);
  EXPECT_EQ(inputs, layers);  // BERT's first linear reads computed features: its input is quantized too
  EXPECT_EQ(taps, 4 * 2);     // q, k, v and the probabilities in each layer
  EXPECT_EQ(ops.at("QuantizeLinear"), inputs + taps);
  EXPECT_EQ(ops.at("DequantizeLinear"), layers + inputs + taps);
  EXPECT_EQ(ops.at("MatMul"), 6 * 2);  // q/k/v, out, f1, f2 and the two attention products per layer
  EXPECT_EQ(ops.at("Gemm"), 1);        // the classifier on the first token
  EXPECT_EQ(ops.at("LayerNormalization"), 1 + 2 * 2);
  EXPECT_EQ(ops.at("Gelu"), 2);
  EXPECT_EQ(ops.at("Softmax"), 2);
  EXPECT_EQ(ops.count("Dropout"), 0u);
  for (const auto& t : g.initializer()) EXPECT_NE(t.name().rfind("mlm_head", 0), 0u) << t.name();
}

TEST(OnnxExport, BertMatMulWeightsAreTransposedCodesWithScalesOnAxis1) {
  const ExportedBert e = export_bert();
  const onnx::GraphProto& g = e.proto.graph();
  for (const QuantizedSite& site : e.quantized.layers) {
    if (site.path == "mlm_head") continue;
    const int bits = site.layer->weight_quantizer()->bits();
    EXPECT_EQ(initializer(g, site.path + ".weight_code").data_type(), bits <= 4 ? kInt4 : kInt8) << site.path;
  }
  // layers.1.attn.qkv (4-bit): codes [in, out] = q(W)ᵀ / step[out], one scale per output channel on axis 1.
  const QuantizedSite* site = nullptr;
  for (const QuantizedSite& s : e.quantized.layers)
    if (s.path == "layers.1.attn.qkv") site = &s;
  ASSERT_NE(site, nullptr);
  ASSERT_EQ(site->layer->weight_quantizer()->bits(), 4);
  const int64_t out = 96, in = 32;
  std::vector<float> q;
  {
    NoGrad no_grad;
    q = site->layer->effective_weight().data().to_vector();
  }
  const std::vector<float> step = site->layer->weight_quantizer()->grid().scale;
  ASSERT_EQ(static_cast<int64_t>(step.size()), out);
  const onnx::TensorProto& codes = initializer(g, "layers.1.attn.qkv.weight_code");
  ASSERT_EQ(codes.dims_size(), 2);
  EXPECT_EQ(codes.dims(0), in);
  EXPECT_EQ(codes.dims(1), out);
  const std::vector<int64_t> unpacked = unpack_int4(codes.raw_data(), in * out);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i)
      ASSERT_EQ(unpacked[i * out + o], std::lround(q[o * in + i] / step[o])) << o << ", " << i;
  const onnx::TensorProto& scale = initializer(g, "layers.1.attn.qkv.weight_scale");
  ASSERT_EQ(scale.dims_size(), 1);
  EXPECT_EQ(scale.dims(0), out);
  for (int64_t o = 0; o < out; ++o) EXPECT_EQ(scale.float_data(o), step[o]);
  const onnx::NodeProto& dq = node(g, "layers.1.attn.qkv.weight");
  EXPECT_EQ(dq.op_type(), "DequantizeLinear");
  EXPECT_EQ(int_attribute(dq, "axis"), 1);
  // The classifier (Gemm with transB) keeps [out, in] and axis 0.
  EXPECT_EQ(int_attribute(node(g, "cls_head.weight"), "axis"), 0);
}

TEST(OnnxExport, BertErrorsNameTheProblem) {
  Bert mlm(
      BertOptions{.stack = {.vocab = 20, .hidden = 8, .layers = 1, .heads = 2, .ffn = 16, .max_len = 8}});
  EXPECT_NE(test::error_of([&] { export_onnx(mlm, "mlm"); }).find("only BERT's classification head"),
            std::string::npos);
  Bert classifier(
      BertOptions{.stack = {.vocab = 20, .hidden = 8, .layers = 1, .heads = 2, .ffn = 16, .max_len = 8},
                  .num_classes = 3,
                  .head = BertHead::classify});
  QuantPolicy policy;
  policy.method = "lsq";
  policy.quantize_attention = true;
  quant::apply(classifier, policy);
  EXPECT_NE(test::error_of([&] {
              export_onnx(classifier, "c");
            }).find("layers.0.attn.qkv.aq: quantizer not initialized"),
            std::string::npos);
}

}  // namespace
}  // namespace qat
