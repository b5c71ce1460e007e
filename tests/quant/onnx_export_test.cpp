// ONNX export of an LSQ W4A4 ResNet-20: the file parses back as opset 21 with a dynamic batch, 4-bit
// weights as packed INT4 codes (the quantizer's own codes) with per-channel scales folded from batch
// norm, one QuantizeLinear→DequantizeLinear per quantized input; unsupported modules name themselves.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "autograd/grad_mode.h"
#include "engine/random.h"
#include "layers/activation.h"
#include "layers/layer_norm.h"
#include "layers/models/resnet.h"
#include "layers/sequential.h"
#include "quant/export/onnx_exporter.h"
#include "quant/quant_policy.h"
#include "tests/test_util.h"

namespace qat {
namespace {

constexpr int32_t kInt4 = 22, kInt8 = 3, kUint8 = 2;

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

}  // namespace
}  // namespace qat
