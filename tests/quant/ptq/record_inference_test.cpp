// Post-training records through export and integer inference: a tiny ResNet (stem, an identity and a
// projection block, classifier) and a 1×1-convolution chain with records of every kind set by
// quantize_layer, packed and re-read, give the fake-quantized model's logits in integer inference — per-row
// records on the int8 kernels (runs_int8), groups, column scales, transforms, BAQ's levels, weight-only
// models and 8-bit codes beyond s8 in f32; a batch norm after an output transform folds into row scales
// after it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "autograd/grad_mode.h"
#include "engine/random.h"
#include "quant/export/packed_file.h"
#include "quant/integer/integer_model.h"
#include "quant/integer/layer_runner.h"
#include "tests/quant/ptq/record_fixtures.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

using test::pointwise_chain;
using test::quantize;
using test::tiny_resnet;

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
  EXPECT_LT(test::relative_difference(logits.to_vector(), fake.to_vector()), 1e-2) << what;
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

TEST(RecordInference, TransformsRunInF32WithABatchNormAfterThemAsRowScales) {
  const ptq::PtqOptions quip{.method = "quip", .bits = 3, .incoherence = "hadamard"};
  auto chain = pointwise_chain();
  const QuantizedModel q = quantize(*chain, quip, 8);
  EXPECT_EQ(dynamic_cast<RecordQuantizer&>(*q.layers[1].layer->weight_quantizer()).record().out.kind,
            ptq::WeightTransform::Kind::hadamard);
  EXPECT_EQ(expect_integer_matches(*chain, "quip hadamard"), 0);
  // The projection shortcut's batch norm cannot fold into scales before its output transform: it goes
  // after it, into row_scale, through the packed file.
  auto resnet = tiny_resnet();
  quantize(*resnet, quip, 8);
  const PackedModel packed = pack_model(*resnet, "");
  const QuantizedWeight& shortcut = packed.layer("layer2_0.shortcut.conv").weight;
  EXPECT_EQ(shortcut.out.kind, ptq::WeightTransform::Kind::hadamard);
  EXPECT_EQ(shortcut.row_scale.size(), 32u);
  EXPECT_EQ(ptq_field(shortcut), "code_stride");
  expect_integer_matches(*resnet, "quip hadamard resnet");
}

}  // namespace
}  // namespace qat
