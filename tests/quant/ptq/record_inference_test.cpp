// Post-training records through export and integer inference: a tiny ResNet (stem, an identity and a
// projection block, classifier) and a 1×1-convolution chain with records of every kind set by
// quantize_layer, packed and re-read, give the fake-quantized model's logits in integer inference — per-row
// records on the int8 kernels (runs_int8), groups, column scales, transforms, BAQ's levels, weight-only
// models and 8-bit codes beyond s8 in f32. The ONNX exporter takes per-row records and names the field of
// the others; a batch norm after an output transform is refused by name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "autograd/grad_mode.h"
#include "engine/random.h"
#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/models/resnet.h"
#include "layers/pool2d.h"
#include "layers/sequential.h"
#include "quant/export/onnx_exporter.h"
#include "quant/export/packed_file.h"
#include "quant/integer/integer_model.h"
#include "quant/integer/layer_runner.h"
#include "quant/quant_policy.h"
#include "quant/quantizers/record_quantizer.h"
#include "tests/quant/ptq/ptq_test_util.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

QuantPolicy ptq_policy(const ptq::PtqOptions& o, int act_bits) {
  QuantPolicy p;
  p.method = o.method;
  p.weight_bits = o.bits;
  p.act_bits = act_bits;
  p.ptq = o;
  return p;
}

// Sets every layer's record by quantize_layer under random Hessians (BAQ after its first pass).
void set_records(const QuantizedModel& q, ptq::PtqOptions o) {
  uint64_t seed = 20;
  for (const QuantizedSite& site : q.layers) {
    auto& record = dynamic_cast<RecordQuantizer&>(*site.layer->weight_quantizer());
    o.bits = record.bits();
    const ptq::LayerWeight l = ptq::layer_weight(site.path, site.layer->layer());
    std::vector<Eigen::MatrixXd> h;
    for (int64_t g = 0; g < l.groups; ++g)
      h.push_back(test::sample_hessian(l.w.cols(), 4 * l.w.cols(), ++seed));
    const bool baq = ptq::layer_method(l, o) == "baq";
    record.set_record(
        ptq::quantize_layer(l, h, o, baq ? ptq::baq_first_pass(l, h, o) : std::vector<Eigen::VectorXd>{})
            .record);
  }
}

// The policy applied, batch-norm statistics and input ranges from training-mode passes (the records not yet
// set pass the float weights), then the records.
QuantizedModel quantize(Module& model, const ptq::PtqOptions& o, int act_bits) {
  QuantizedModel q = quant::apply(model, ptq_policy(o, act_bits));
  NoGrad no_grad;
  Generator gen(4);
  for (int i = 0; i < 3; ++i) model.forward(Variable(gen.normal_tensor({16, 1, 12, 12})));
  model.eval();
  set_records(q, o);
  return q;
}

std::shared_ptr<Module> tiny_resnet() {
  manual_seed(3);
  return resnet({.widths = {16, 32}, .blocks_per_stage = 1, .in_channels = 1, .num_classes = 10});
}

// stem conv + BN + ReLU, a 1×1 convolution without batch norm, pooling and a classifier: QuIP's transforms
// on both of the last two layers.
std::shared_ptr<Module> pointwise_chain() {
  manual_seed(7);
  auto model = std::make_shared<Sequential>();
  model->add("stem", std::make_shared<Conv2d>(Conv2dOptions{.in = 1, .out = 16, .kernel = 3, .padding = 1}));
  model->add("bn", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{.channels = 16, .fuse_relu = true}));
  model->add("mix", std::make_shared<Conv2d>(Conv2dOptions{.in = 16, .out = 16, .kernel = 1}));
  model->add("relu", std::make_shared<Activation>(ActivationKind::relu));
  model->add("pool", std::make_shared<Pool2d>(Pool2dOptions{.kind = PoolKind::global_average}));
  model->add("flatten", std::make_shared<Flatten>());
  model->add("fc", std::make_shared<Linear>(LinearOptions{.in = 16, .out = 10}));
  return model;
}

// Largest |logit difference| relative to the largest |logit| over a batch.
double relative_difference(const Tensor& got, const Tensor& expected) {
  const std::vector<float> a = got.to_vector(), b = expected.to_vector();
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::abs(b[i])));
  }
  return diff / scale;
}

// Integer inference of the packed and re-read model against its fake-quantized evaluation; returns the
// number of layers that ran int8.
int64_t expect_integer_matches(Module& model, const std::string& what) {
  const fs::path path =
      fs::temp_directory_path() / ("qat_record_inference_" + std::to_string(::getpid()) + ".h5");
  save_packed(pack_model(model, "name: \"tiny\""), path.string());
  const PackedModel packed = load_packed(path.string());
  fs::remove(path);
  const Tensor x = Generator(11).normal_tensor({32, 1, 12, 12});
  Tensor fake;
  {
    NoGrad no_grad;
    fake = model.forward(Variable(x)).data().contiguous();
  }
  const Tensor logits = IntegerModel(model, packed).forward(x);
  // Input codes of int8 layers come from the kernels' requantization, which may round a value within float
  // rounding of a code boundary the other way; f32 layers sum in another order.
  EXPECT_LT(relative_difference(logits, fake), 1e-2) << what;
  return std::count_if(packed.layers.begin(), packed.layers.end(),
                       [](const PackedLayer& l) { return runs_int8(l); });
}

TEST(RecordInference, EveryRecordKindRunsLikeTheFakeQuantizedModel) {
  // Layers on the int8 kernels: the four 3×3 convolutions and the projection when per-row with quantized
  // inputs (the stem reads the image; the 8-bit classifier when its codes minus zero point fit s8).
  struct Case {
    ptq::PtqOptions options;
    int act_bits;
    int64_t int8_min, int8_max;
  };
  const Case cases[] = {
      {{.method = "rtn", .bits = 4}, 8, 5, 6},
      {{.method = "optq", .bits = 3, .grid = "sym"}, 8, 6, 6},     // sym: z = 128 at 8 bits
      {{.method = "optq", .bits = 4}, 0, 0, 0},                    // weight-only
      {{.method = "optq", .bits = 4, .group_size = 16}, 8, 1, 1},  // per row: the projection
      {{.method = "sinq", .bits = 3}, 8, 0, 0},
      {{.method = "quip", .bits = 3, .incoherence = "none"}, 8, 4, 4},  // OPTQ on 3×3
      {{.method = "baq", .bits = 3}, 8, 0, 0}};
  for (const Case& c : cases) {
    const std::string what =
        c.options.method + " g" + std::to_string(c.options.group_size) + " a" + std::to_string(c.act_bits);
    auto model = tiny_resnet();
    quantize(*model, c.options, c.act_bits);
    const int64_t int8 = expect_integer_matches(*model, what);
    EXPECT_GE(int8, c.int8_min) << what;
    EXPECT_LE(int8, c.int8_max) << what;
  }
}

TEST(RecordInference, TransformsRunInF32AndABatchNormAfterOneIsRefused) {
  const ptq::PtqOptions quip{.method = "quip", .bits = 3, .incoherence = "hadamard"};
  auto chain = pointwise_chain();
  const QuantizedModel q = quantize(*chain, quip, 8);
  EXPECT_EQ(dynamic_cast<RecordQuantizer&>(*q.layers[1].layer->weight_quantizer()).record().out.kind,
            ptq::WeightTransform::Kind::hadamard);
  EXPECT_EQ(expect_integer_matches(*chain, "quip hadamard"), 0);
  auto resnet = tiny_resnet();
  quantize(*resnet, quip, 8);
  const std::string refused = test::error_of([&] { pack_model(*resnet, ""); });
  EXPECT_NE(refused.find("layer2_0.shortcut.conv: record field 'out'"), std::string::npos) << refused;
}

TEST(RecordInference, OnnxTakesPerRowRecordsAndNamesTheFieldOfOthers) {
  const OnnxExportOptions image{
      .channels = 1, .height = 12, .width = 12, .mean = {}, .stddev = {}, .name = "tiny"};
  auto per_row = tiny_resnet();
  quantize(*per_row, {.method = "optq", .bits = 4}, 8);
  EXPECT_GT(export_onnx(*per_row, image).graph().node_size(), 22);
  auto grouped = tiny_resnet();
  quantize(*grouped, {.method = "rtn", .bits = 4, .group_size = 16}, 8);
  const std::string refused = test::error_of([&] { export_onnx(*grouped, image); });
  EXPECT_NE(refused.find("onnx export: layer 'layer1_0.conv1': record field 'group_size'"), std::string::npos)
      << refused;
}

}  // namespace
}  // namespace qat
