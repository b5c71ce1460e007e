// ONNX export of post-training records (PTQ.md, "Evaluation and export"): a tiny ResNet (3×3 convolutions,
// a projection shortcut with batch norm, a classifier), a 1×1-convolution chain and a tiny BERT classifier
// with OPTQ W4 (per row and in groups), SINQ W3 g64 (tiles, column scales), QuIP W2 (Hadamard and Kronecker
// transforms, odd codes, a batch norm after the output transform) and BAQ (column levels) records run in
// ONNX Runtime (scripts/ort_eval.mjs) with the model's own logits — weight-only, so up to float summation
// order — and the same top class on every input; the file holds each record's integer codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "layers/models/bert.h"
#include "quant/export/onnx_exporter.h"
#include "quant/export/quantized_weight.h"
#include "tests/quant/ptq/record_fixtures.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int32_t kUint4 = 21, kInt4 = 22, kInt8 = 3, kUint8 = 2, kInt16 = 5, kUint16 = 4;
constexpr int64_t kInputs = 32;

struct Case {
  const char* name;
  ptq::PtqOptions options;
};

const Case test_cases[] = {
    {"optq w4", {.method = "optq", .bits = 4}},
    {"optq w4 g16",
     {.method = "optq", .bits = 4, .group_size = 16}},  // the stem's 9 columns: one short group
    {"sinq w3 g64", {.method = "sinq", .bits = 3, .group_size = 64}},
    {"quip w2 hadamard", {.method = "quip", .bits = 2, .incoherence = "hadamard"}},
    {"quip w2 kronecker", {.method = "quip", .bits = 2, .incoherence = "kronecker"}},
    {"baq 2", {.method = "baq", .bits = 2}},
};

fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() / ("qat_onnx_record_" + name + "_" + std::to_string(::getpid()));
}

// The integer values of an ONNX Q/DQ initializer: int4/uint4 two per byte (low nibble first), 8- and
// 16-bit little-endian.
std::vector<int64_t> integer_values(const onnx::TensorProto& t) {
  const std::string& raw = t.raw_data();
  const int32_t type = t.data_type();
  int64_t count = 1;
  for (const int64_t d : t.dims()) count *= d;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < count; ++i) {
    if (type == kUint4 || type == kInt4) {
      const auto byte = static_cast<uint8_t>(raw.at(i / 2));
      const int nibble = i % 2 == 0 ? byte & 0xF : byte >> 4;
      out.push_back(type == kInt4 && nibble >= 8 ? nibble - 16 : nibble);
    } else if (type == kUint8 || type == kInt8) {
      const auto byte = static_cast<uint8_t>(raw.at(i));
      out.push_back(type == kInt8 ? static_cast<int8_t>(byte) : byte);
    } else {
      const auto word = static_cast<uint16_t>(static_cast<uint8_t>(raw.at(2 * i)) |
                                              static_cast<uint8_t>(raw.at(2 * i + 1)) << 8);
      out.push_back(type == kInt16 ? static_cast<int16_t>(word) : word);
    }
  }
  return out;
}

// Every quantized layer's weight is in the file as its record's integer codes (QuIP's 8-bit odd codes in
// int16), never as float weights. A per-row record of a BERT linear keeps the exporter's transposed
// [in, out] codes of the MatMul path.
void expect_integer_codes(const onnx::ModelProto& proto, const QuantizedModel& q, const std::string& what,
                          bool matmul = false) {
  std::map<std::string, const onnx::TensorProto*> initializers;
  for (const auto& t : proto.graph().initializer()) initializers[t.name()] = &t;
  for (const QuantizedSite& site : q.layers) {
    if (site.path == "mlm_head") continue;  // not part of the classifier
    const QuantizedWeight& record = dynamic_cast<RecordQuantizer&>(*site.layer->weight_quantizer()).record();
    ASSERT_TRUE(initializers.count(site.path + ".weight_code")) << what << " " << site.path;
    const onnx::TensorProto& codes = *initializers.at(site.path + ".weight_code");
    const std::set<int32_t> integer_types{kInt4, kUint4, kInt8, kUint8, kInt16, kUint16};
    EXPECT_TRUE(integer_types.count(codes.data_type()))
        << what << " " << site.path << " " << codes.data_type();
    std::vector<int64_t> expected = record.codes;
    if (matmul && ptq_field(record).empty() && site.path != "cls_head") {
      const int64_t out = record.out_channels(), in = static_cast<int64_t>(expected.size()) / out;
      for (int64_t r = 0; r < out; ++r)
        for (int64_t c = 0; c < in; ++c) expected[c * out + r] = record.codes[r * in + c];
    }
    EXPECT_EQ(integer_values(codes), expected) << what << " " << site.path;
    EXPECT_FALSE(initializers.count(site.path + ".weight")) << what << " " << site.path;
  }
}

// ONNX Runtime's logits against `expected` [kInputs, classes]: the same top class for every input, values
// within float rounding.
void expect_same_logits(const std::string& ort_line, const std::vector<float>& expected,
                        const std::string& what) {
  const json ort = json::parse(ort_line, nullptr, false);
  ASSERT_FALSE(ort.is_discarded()) << what << ": scripts/ort_eval.mjs printed no JSON line";
  ASSERT_EQ(ort["logits"].size(), static_cast<size_t>(kInputs)) << what;
  const size_t classes = expected.size() / kInputs;
  std::vector<float> got;
  for (const auto& row : ort["logits"]) {
    const auto values = row.get<std::vector<float>>();
    ASSERT_EQ(values.size(), classes) << what;
    got.insert(got.end(), values.begin(), values.end());
  }
  for (size_t i = 0; i < static_cast<size_t>(kInputs); ++i) {
    const auto top = [&](const std::vector<float>& v) {
      return std::max_element(v.begin() + i * classes, v.begin() + (i + 1) * classes) - v.begin();
    };
    EXPECT_EQ(top(got), top(expected)) << what << ": input " << i;
  }
  EXPECT_LT(test::relative_difference(got, expected), 1e-4) << what;
}

// Exports an image model with records, runs it in ONNX Runtime on random inputs and compares.
void check_image_model(const std::shared_ptr<Module>& model, const Case& c, const std::string& name) {
  const std::string what = std::string(c.name) + " " + name;
  const QuantizedModel q = test::quantize(*model, c.options, 0);
  const onnx::ModelProto proto =
      export_onnx(*model, {.channels = 1, .height = 12, .width = 12, .mean = {}, .stddev = {}, .name = name});
  expect_integer_codes(proto, q, what);
  const Tensor x = Generator(11).normal_tensor({kInputs, 1, 12, 12});
  std::vector<float> expected;
  {
    NoGrad no_grad;
    expected = model->forward(Variable(x)).data().to_vector();
  }
  const fs::path dir = scratch(name);
  fs::create_directories(dir);
  save_onnx(proto, (dir / "model.onnx").string());
  const std::vector<float> inputs = x.to_vector();
  std::ofstream(dir / "x.f32", std::ios::binary)
      .write(reinterpret_cast<const char*>(inputs.data()), static_cast<std::streamsize>(inputs.size() * 4));
  expect_same_logits(test::run_ort_eval((dir / "model.onnx").string(),
                                        "--raw-input " + (dir / "x.f32").string() +
                                            " --shape 1,12,12 --dump-logits " + std::to_string(kInputs)),
                     expected, what);
  fs::remove_all(dir);
}

TEST(OnnxRecord, ConvolutionsAndLinearsOfEveryRecordKindRunInOnnxRuntime) {
  QAT_REQUIRE_ONNX_RUNTIME();
  for (const Case& c : test_cases) {
    check_image_model(test::tiny_resnet(), c, "tiny_resnet");
    check_image_model(test::pointwise_chain(), c, "pointwise_chain");
  }
}

// The record's features where they are: groups as a blocked DequantizeLinear, QuIP's transforms as MatMul
// by float matrices, the projection's batch norm as row scales after the output transform.
TEST(OnnxRecord, GraphCarriesEachFeature) {
  auto blocked = test::tiny_resnet();
  const QuantizedModel q = test::quantize(*blocked, {.method = "optq", .bits = 4, .group_size = 16}, 0);
  const onnx::ModelProto groups = export_onnx(*blocked, {.channels = 1, .height = 12, .width = 12});
  int blocked_nodes = 0, grouped_layers = 0;
  for (const auto& n : groups.graph().node())
    for (const auto& a : n.attribute()) blocked_nodes += a.name() == "block_size" && a.i() == 16;
  for (const QuantizedSite& site : q.layers)
    grouped_layers +=
        dynamic_cast<RecordQuantizer&>(*site.layer->weight_quantizer()).record().group_size == 16;
  EXPECT_GE(grouped_layers, 4) << "the four 3×3 convolutions of the blocks";
  EXPECT_EQ(blocked_nodes, grouped_layers) << "one blocked DequantizeLinear per grouped layer";

  auto quip = test::tiny_resnet();
  test::quantize(*quip, {.method = "quip", .bits = 2, .incoherence = "hadamard"}, 0);
  const onnx::ModelProto transforms = export_onnx(*quip, {.channels = 1, .height = 12, .width = 12});
  std::map<std::string, Shape> initializers;
  for (const auto& t : transforms.graph().initializer())
    initializers[t.name()] = Shape(t.dims().begin(), t.dims().end());
  // QuIP reaches the 1×1 shortcut (16 → 32) and the classifier (32 → 10); 3×3 convolutions fall back to OPTQ.
  EXPECT_EQ(initializers.at("layer2_0.shortcut.conv.transform_in"), (Shape{16, 16}));
  EXPECT_EQ(initializers.at("layer2_0.shortcut.conv.transform_out_t"), (Shape{32, 32}));
  EXPECT_EQ(initializers.at("layer2_0.shortcut.conv.row_scale"), (Shape{32, 1}));
  EXPECT_EQ(initializers.at("fc.transform_in"), (Shape{32, 32}));
  EXPECT_EQ(initializers.at("fc.col_scale"), (Shape{1, 32}));
  EXPECT_FALSE(initializers.count("layer1_0.conv1.transform_in"));
}

// A 2-layer BERT classifier: its records reach ONNX Runtime through the MatMul path (transposed weights).
TEST(OnnxRecord, BertLinearsOfEveryRecordKindRunInOnnxRuntime) {
  QAT_REQUIRE_ONNX_RUNTIME();
  Tensor ids = Tensor::zeros({kInputs, 12}, DType::s32);
  json text = {{"pad_id", 0}, {"sequences", json::array()}, {"labels", json::array()}};
  for (int64_t i = 0; i < kInputs; ++i) {
    std::vector<int32_t> sequence;
    for (int64_t t = 0; t < 5 + i % 8; ++t)
      sequence.push_back(static_cast<int32_t>(1 + (7 * i + 3 * t) % 39));
    std::copy(sequence.begin(), sequence.end(), ids.data<int32_t>() + i * 12);
    text["sequences"].push_back(sequence);
    text["labels"].push_back(0);
  }
  const fs::path dir = scratch("bert");
  fs::create_directories(dir);
  std::ofstream(dir / "text.json") << text.dump();
  for (const Case& c : test_cases) {
    manual_seed(4);
    Bert bert(
        {.stack = {.vocab = 40, .hidden = 32, .layers = 2, .heads = 2, .ffn = 64, .max_len = 16, .pad_id = 0},
         .num_classes = 5,
         .head = BertHead::classify});
    const QuantizedModel q = quant::apply(bert, test::ptq_policy(c.options, 0));
    test::set_records(q, c.options);
    bert.eval();
    std::vector<float> expected;
    {
      NoGrad no_grad;
      expected = bert.forward(Variable(ids)).data().to_vector();
    }
    const onnx::ModelProto proto = export_onnx(bert, "tiny_bert");
    expect_integer_codes(proto, q, c.name, true);
    save_onnx(proto, (dir / "model.onnx").string());
    expect_same_logits(
        test::run_ort_eval((dir / "model.onnx").string(), "--text-data " + (dir / "text.json").string() +
                                                              " --dump-logits " + std::to_string(kInputs)),
        expected, std::string(c.name) + " bert");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
