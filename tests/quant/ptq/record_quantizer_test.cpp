// The record quantizer: every post-training row of the method table leaves a record that fits the layout
// record_layout predicts from the layer and the options alone, so that a fresh quantizer of that layout
// loads the state dict and gives the same weight, dequantize(record); the float weight passes through
// before a record is set; layouts and options that do not fit fail naming the field.
#include "quant/quantizers/record_quantizer.h"

#include <gtest/gtest.h>

#include "layers/conv2d.h"
#include "layers/linear.h"
#include "quant/export/weight_dequantize.h"
#include "quant/ptq/layer_quantizer.h"
#include "quant/quant_method.h"
#include "quant/quantizers/minmax_quantizer.h"
#include "tests/quant/ptq/ptq_test_util.h"
#include "tests/test_util.h"

namespace qat {
namespace {

using ptq::LayerWeight;
using ptq::PtqOptions;

struct NamedLayer {
  std::string path;
  std::shared_ptr<WeightedLayer> layer;
};

// A 3×3 convolution, a pointwise one, a depthwise one and a linear layer (QuIP's and SINQ's scopes differ;
// groups of 16 divide their input columns or cover the depthwise rows of 9).
std::vector<NamedLayer> layers() {
  return {{"conv3", std::make_shared<Conv2d>(Conv2dOptions{.in = 16, .out = 8, .kernel = 3, .padding = 1})},
          {"pointwise", std::make_shared<Conv2d>(Conv2dOptions{.in = 32, .out = 16, .kernel = 1})},
          {"depthwise", std::make_shared<Conv2d>(
                            Conv2dOptions{.in = 8, .out = 8, .kernel = 3, .padding = 1, .groups = 8})},
          {"fc", std::make_shared<Linear>(LinearOptions{.in = 64, .out = 12})}};
}

std::vector<Eigen::MatrixXd> hessians(const LayerWeight& l, uint64_t seed) {
  std::vector<Eigen::MatrixXd> h;
  for (int64_t g = 0; g < l.groups; ++g)
    h.push_back(test::sample_hessian(l.w.cols(), 4 * l.w.cols(), seed + g));
  return h;
}

QuantizedWeight quantized(const LayerWeight& l, const PtqOptions& o) {
  const auto h = hessians(l, 5);
  const bool baq = ptq::layer_method(l, o) == "baq";
  return ptq::quantize_layer(l, h, o, baq ? ptq::baq_first_pass(l, h, o) : std::vector<Eigen::VectorXd>{})
      .record;
}

QuantizerOptions record_options(const LayerWeight& l, const PtqOptions& o) {
  return {.bits = o.bits, .is_signed = std::nullopt, .record = ptq::record_layout(l, o)};
}

// Every post-training row, per-row and with groups (QuIP with and without transforms, BAQ's levels).
std::vector<PtqOptions> option_sets() {
  std::vector<PtqOptions> sets;
  for (const QuantMethod& m : quant_methods())
    if (is_post_training(m)) sets.push_back({.method = m.name, .bits = 3});
  sets.push_back({.method = "optq", .bits = 4, .group_size = 16, .grid = "sym"});
  sets.push_back({.method = "rtn", .bits = 2, .group_size = 16, .grid = "asym"});
  sets.push_back({.method = "quip", .bits = 2, .incoherence = "hadamard"});
  sets.push_back({.method = "quip", .bits = 2, .incoherence = "none"});
  sets.push_back({.method = "sinq", .bits = 4, .group_size = 32});
  return sets;
}

TEST(RecordQuantizer, RecordsFitTheirLayoutAndLoadIntoAFreshQuantizer) {
  int64_t checked = 0;
  for (const NamedLayer& named : layers())
    for (const PtqOptions& o : option_sets()) {
      const LayerWeight l = ptq::layer_weight(named.path, *named.layer);
      const std::string what =
          named.path + " " + o.method + " g" + std::to_string(o.group_size) + " " + o.incoherence;
      const QuantizedWeight record = quantized(l, o);
      RecordQuantizer q(record_options(l, o));
      ASSERT_NO_THROW(q.set_record(record)) << what;
      EXPECT_TRUE(q.initialized()) << what;
      const Variable weight = named.layer->weight();
      const std::vector<float> expected = dequantize(record);
      EXPECT_EQ(q.forward(weight).data().to_vector(), expected) << what;
      RecordQuantizer fresh(record_options(l, o));
      EXPECT_FALSE(fresh.initialized());
      fresh.load_state_dict(q.state_dict());
      EXPECT_EQ(fresh.forward(weight).data().to_vector(), expected) << what;
      const QuantizedWeight loaded = fresh.record();
      EXPECT_EQ(loaded.codes, record.codes) << what;
      EXPECT_EQ(loaded.scale, record.scale) << what;
      EXPECT_EQ(loaded.levels, record.levels) << what;
      EXPECT_EQ(loaded.col_scale, record.col_scale) << what;
      EXPECT_EQ(loaded.in.blocks, record.in.blocks) << what;
      EXPECT_EQ(loaded.out.signs, record.out.signs) << what;
      EXPECT_EQ(loaded.code_stride, record.code_stride) << what;
      ++checked;
    }
  EXPECT_EQ(checked, static_cast<int64_t>(layers().size() * option_sets().size()));
}

TEST(RecordQuantizer, PassesTheFloatWeightUntilARecordIsSet) {
  const NamedLayer named = layers()[0];
  const LayerWeight l = ptq::layer_weight(named.path, *named.layer);
  const PtqOptions o{.method = "rtn", .bits = 2};
  RecordQuantizer q(record_options(l, o));
  const Variable weight = named.layer->weight();
  EXPECT_EQ(q.forward(weight).data().to_vector(), weight.data().to_vector());
  q.set_record(quantized(l, o));
  EXPECT_NE(q.forward(weight).data().to_vector(), weight.data().to_vector());
  const std::string shape = test::error_of([&] { q.forward(Variable(Tensor::zeros({8, 16, 3, 2}))); });
  EXPECT_NE(shape.find("record of shape [8, 16, 3, 3]"), std::string::npos) << shape;
}

TEST(RecordQuantizer, GridOfPerRowRecordsAndNamedFieldsOfOthers) {
  const NamedLayer named = layers()[3];
  const LayerWeight l = ptq::layer_weight(named.path, *named.layer);
  const PtqOptions per_row{.method = "optq", .bits = 3};
  RecordQuantizer q(record_options(l, per_row));
  q.set_record(quantized(l, per_row));
  const QuantGrid grid = q.grid();
  const std::vector<float> w = q.forward(named.layer->weight()).data().to_vector();
  const QuantizedWeight r = q.record();
  ASSERT_EQ(grid.scale.size(), 12u);
  for (size_t i = 0; i < w.size(); ++i) {
    const size_t c = i / 64;
    EXPECT_NEAR(w[i], static_cast<float>(r.codes[i]) * grid.scale[c] + grid.offset[c], 1e-6) << i;
  }
  const PtqOptions grouped{.method = "optq", .bits = 3, .group_size = 16};
  RecordQuantizer g(record_options(l, grouped));
  g.set_record(quantized(l, grouped));
  EXPECT_NE(test::error_of([&] { g.grid(); }).find("'group_size'"), std::string::npos);
  // A record of another layout is refused.
  const std::string mismatch = test::error_of([&] { q.set_record(quantized(l, grouped)); });
  EXPECT_NE(mismatch.find("does not have the layout's fields"), std::string::npos) << mismatch;
  EXPECT_NE(test::error_of([&] { RecordQuantizer({.is_signed = std::nullopt}); }).find("layout"),
            std::string::npos);
}

TEST(RecordQuantizer, LayoutErrorsNameTheField) {
  const NamedLayer named = layers()[3];
  const LayerWeight l = ptq::layer_geometry(named.path, *named.layer);
  const std::string group =
      test::error_of([&] { ptq::record_layout(l, {.method = "optq", .group_size = 24}); });
  EXPECT_NE(group.find("ptq.group_size: 24 does not divide the 64 input columns of layer 'fc'"),
            std::string::npos)
      << group;
  // SINQ's fallback: tiles halved down to 16 until one divides, else a shorter last tile.
  EXPECT_EQ(ptq::record_layout(l, {.method = "sinq", .group_size = 128}).group_size, 0);  // one tile of 64
  const ptq::RecordLayout ragged = ptq::record_layout(l, {.method = "sinq", .group_size = 24});
  EXPECT_EQ(ragged.group_size, 24);
  EXPECT_EQ(ragged.scales, 12 * 3);
  const std::string method = test::error_of([&] { ptq::record_layout(l, {.method = "nipq"}); });
  EXPECT_NE(
      method.find("ptq.method: unknown method 'nipq' (known: " + quant_method_names(is_post_training) + ")"),
      std::string::npos)
      << method;
  auto check = [](const PtqOptions& o) { return test::error_of([&] { ptq::check_options(o); }); };
  EXPECT_EQ(check({.method = "baq"}), "");
  EXPECT_NE(check({.method = "rtn", .bits = 1}).find("ptq.weight_bits: 1"), std::string::npos);
  EXPECT_NE(check({.method = "rtn", .grid = "quip"}).find("ptq.grid: 'quip'"), std::string::npos);
  EXPECT_NE(check({.method = "quip", .rounding = "floor"}).find("ptq.rounding"), std::string::npos);
  EXPECT_NE(check({.method = "quip", .incoherence = "dct"}).find("ptq.incoherence"), std::string::npos);
  EXPECT_NE(check({.method = "optq", .damp = 0.0}).find("ptq.damp"), std::string::npos);
  EXPECT_NE(check({.method = "baq", .baq_max_levels = 1}).find("ptq.baq_max_levels"), std::string::npos);
}

// A post-training row builds the record quantizer for weights and min-max for inputs.
TEST(RecordQuantizer, PostTrainingRowsBuildRecordWeightsAndMinMaxInputs) {
  const LayerWeight l = ptq::layer_geometry("fc", *layers()[3].layer);
  int64_t rows = 0;
  for (const QuantMethod& m : quant_methods()) {
    if (!is_post_training(m)) continue;
    const auto weight = make_quantizer(m.name, record_options(l, {.method = m.name}));
    EXPECT_NE(dynamic_cast<RecordQuantizer*>(weight.get()), nullptr) << m.name;
    EXPECT_STREQ(weight->method(), "record");
    const auto input =
        make_quantizer(m.name, {.target = QuantTarget::activation, .bits = 8, .is_signed = {}});
    EXPECT_NE(dynamic_cast<MinMaxQuantizer*>(input.get()), nullptr) << m.name;
    ++rows;
  }
  EXPECT_EQ(rows, 5);
}

}  // namespace
}  // namespace qat
