// quant::apply: which layers get which quantizers (defaults, first/last bits, rules, attention inputs),
// parameter names kept, the decorator computing layer(aq(x), wq(W)); cost accounting and its loss.
#include "quant/quant_policy.h"

#include <gtest/gtest.h>

#include <set>

#include "autograd/ops/reduce.h"
#include "engine/primitive_cache.h"
#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/models/bert.h"
#include "layers/models/mobilenet_v2.h"
#include "layers/models/resnet.h"
#include "quant/cost_model.h"
#include "quant/quant_method.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

QuantPolicy policy(const std::string& method, int bits) {
  QuantPolicy p;
  p.method = method;
  p.weight_bits = p.act_bits = bits;
  p.weight.bits_max = p.activation.bits_max = 8;
  return p;
}

std::set<std::string> names(const Module& m) {
  std::set<std::string> out;
  for (const auto& [name, param] : m.named_parameters()) out.insert(name);
  return out;
}

Tensor images(int64_t batch) { return Generator(3).uniform_tensor({batch, 1, 28, 28}, 0.0f, 1.0f); }

// A post-training policy: record weight quantizers laid out for their layer (MobileNetV2: QuIP's scope is
// the pointwise convolutions and the classifier); inputs stay float at 0 act bits, first/last layers
// included, and are min-max at 8 bits except the image.
TEST(QuantApply, PostTrainingPolicyGivesRecordLayoutsAndWeightOnlyOrMinMaxInputs) {
  for (const int act_bits : {0, 8}) {
    auto model = mobilenet_v2({.width = 0.5, .in_channels = 1, .num_classes = 10});
    QuantPolicy p = policy("quip", 2);
    p.act_bits = act_bits;
    const QuantizedModel q = quant::apply(*model, p);
    ASSERT_GT(q.layers.size(), 3u);
    int64_t transformed = 0;
    for (size_t i = 0; i < q.layers.size(); ++i) {
      const QuantizedLayer& l = *q.layers[i].layer;
      const std::optional<ptq::RecordLayout>& layout = l.weight_quantizer()->options().record;
      ASSERT_TRUE(layout.has_value()) << q.layers[i].path;
      EXPECT_STREQ(l.weight_quantizer()->method(), "record");
      EXPECT_EQ(layout->shape, l.layer().weight().shape());
      const auto* conv = dynamic_cast<const Conv2d*>(&l.layer());
      const bool in_scope = !conv || (conv->options().kernel == 1 && conv->options().groups == 1);
      EXPECT_EQ(layout->transforms, in_scope) << q.layers[i].path;  // out of scope: OPTQ's per-row grids
      transformed += layout->transforms;
      EXPECT_EQ(l.input_quantizer() != nullptr, act_bits == 8 && i > 0) << q.layers[i].path;
      if (l.input_quantizer()) {
        EXPECT_STREQ(l.input_quantizer()->method(), "minmax");
      }
    }
    EXPECT_GT(transformed, 0);
    EXPECT_EQ(q.layers.front().layer->weight_quantizer()->bits(), 8);
    EXPECT_EQ(q.layers[1].layer->weight_quantizer()->bits(), 2);
  }
}

TEST(QuantApply, WrapsEveryLayerKeepsNamesAndSetsFirstLastBits) {
  manual_seed(1);
  auto model = resnet20(1, 10);
  const std::set<std::string> before = names(*model);
  const QuantizedModel q = quant::apply(*model, policy("lsq", 4));
  ASSERT_EQ(q.layers.size(), 22u);  // 19 convolutions, 2 projection shortcuts and the classifier
  EXPECT_EQ(q.layers.front().layer->input_quantizer(), nullptr) << "the image stays in full precision";
  EXPECT_EQ(q.layers.front().layer->weight_quantizer()->bits(), 8);
  EXPECT_EQ(q.layers.back().layer->weight_quantizer()->bits(), 8);
  EXPECT_EQ(q.layers.back().layer->input_quantizer()->bits(), 8);
  EXPECT_EQ(q.layers[1].layer->weight_quantizer()->bits(), 4);
  EXPECT_EQ(q.layers[1].layer->input_quantizer()->bits(), 4);
  const std::set<std::string> after = names(*model);
  for (const std::string& name : before) EXPECT_TRUE(after.count(name)) << name << " lost its name";
  EXPECT_TRUE(after.count(q.layers[1].path + ".wq.step")) << q.layers[1].path;
  EXPECT_TRUE(after.count(q.layers[1].path + ".aq.step"));
  EXPECT_EQ(quant::find(*model).layers.size(), q.layers.size());
  EXPECT_NE(test::error_of([&] { quant::apply(*model, policy("lsq", 4)); }).find("already quantized"),
            std::string::npos);
}

TEST(QuantApply, FloatCheckpointLoadsIntoTheQuantizedModel) {
  manual_seed(2);
  auto fp = resnet20(1, 10);
  manual_seed(3);
  auto model = resnet20(1, 10);
  quant::apply(*model, policy("nipq", 4));
  model->load_state_dict(fp->state_dict(), true);
  for (const auto& [name, value] : fp->state_dict())
    EXPECT_EQ(model->state_dict().at(name).to_vector(), value.to_vector()) << name;
}

TEST(QuantApply, LayerComputesOnQuantizedInputAndWeight) {
  manual_seed(4);
  auto conv = std::make_shared<Conv2d>(Conv2dOptions{.in = 3, .out = 4, .kernel = 3, .padding = 1});
  QuantizerOptions w, a;
  w.bits = a.bits = 3;
  a.target = QuantTarget::activation;
  auto wq = make_quantizer("lsq", w), aq = make_quantizer("lsq", a);
  QuantizedLayer layer(conv, wq, aq);
  layer.eval();
  const Variable x(Generator(5).uniform_tensor({2, 3, 6, 6}, 0.0f, 2.0f));
  const std::vector<float> y = layer.forward(x).data().to_vector();
  const std::vector<float> expected =
      conv->forward_with(aq->forward(x), wq->forward(conv->weight()), conv->bias()).data().to_vector();
  EXPECT_EQ(y, expected);
  EXPECT_DOUBLE_EQ(layer.macs_per_sample(), 4.0 * 3 * 9 * 36);
  EXPECT_DOUBLE_EQ(layer.input_elements_per_sample(), 3.0 * 36);
}

TEST(QuantApply, RulesSkipRetypeAndRenameBits) {
  manual_seed(5);
  auto model = mobilenet_v2({.width = 0.5, .in_channels = 1, .num_classes = 10});
  QuantPolicy p = policy("lsq", 4);
  p.first_last_bits = 0;
  p.rules.push_back(
      {.name_pattern = "", .layer_type = "depthwise", .weight_bits = 8, .act_bits = std::nullopt});
  p.rules.push_back(
      {.name_pattern = ".*classifier.*", .layer_type = "", .weight_bits = {}, .act_bits = {}, .skip = true});
  const QuantizedModel q = quant::apply(*model, p);
  int depthwise = 0;
  for (const auto& site : q.layers) {
    EXPECT_EQ(site.path.find("classifier"), std::string::npos) << site.path << " should be skipped";
    const auto* conv = dynamic_cast<const Conv2d*>(&site.layer->layer());
    const bool is_depthwise = conv && conv->options().groups > 1;
    depthwise += is_depthwise;
    EXPECT_EQ(site.layer->weight_quantizer()->bits(), is_depthwise ? 8 : 4) << site.path;
    if (site.layer->input_quantizer()) {
      EXPECT_EQ(site.layer->input_quantizer()->bits(), 4) << site.path;
    }
  }
  EXPECT_GT(depthwise, 10);
  QuantPolicy bad = policy("lsq", 4);
  bad.rules.push_back(
      {.name_pattern = "(", .layer_type = "", .weight_bits = {}, .act_bits = {}, .skip = false});
  auto fresh = resnet20(1, 10);
  EXPECT_NE(test::error_of([&] { quant::apply(*fresh, bad); }).find("quant.rules[0].name_pattern"),
            std::string::npos);
}

TEST(QuantApply, AttentionInputsGetQuantizersWhenAsked) {
  manual_seed(6);
  Bert bert({.stack = {.vocab = 50, .hidden = 16, .layers = 2, .heads = 2, .ffn = 32, .max_len = 8}});
  QuantPolicy p = policy("nipq", 8);
  p.quantize_attention = true;
  const QuantizedModel q = quant::apply(bert, p);
  EXPECT_EQ(q.attention.size(), 8u);  // q, k, v and probabilities in each of 2 layers
  Tensor ids = Tensor::empty({2, 8}, DType::s32);
  for (int64_t i = 0; i < 16; ++i) ids.data<int32_t>()[i] = static_cast<int32_t>(1 + i % 40);
  bert.mlm_logits(ids);
  for (const auto& aq : q.attention) EXPECT_TRUE(aq->initialized());
  EXPECT_EQ(quant::find(bert).attention.size(), 8u);
}

TEST(QuantApply, SteadyQuantizedTrainingStepCreatesNoPrimitives) {
  manual_seed(7);
  auto model = resnet20(1, 10);
  quant::apply(*model, policy("nipq", 4));
  auto step = [&] {
    for (auto& [name, param] : model->named_parameters()) param.zero_grad();
    sum(model->forward(Variable(images(4)))).backward();
  };
  step();
  const int64_t created = PrimitiveCache::get().created();
  step();
  EXPECT_EQ(PrimitiveCache::get().created(), created);
}

TEST(CostModel, BitsSizeAndBopsFollowTheLayers) {
  manual_seed(8);
  auto model = resnet20(1, 10);
  const QuantizedModel q = quant::apply(*model, policy("lsq", 4));
  model->forward(Variable(images(2)));
  const std::vector<LayerCost> layers = layer_costs(q);
  double size = 0, weights = 0, gbops = 0;
  for (const LayerCost& l : layers) {
    size += static_cast<double>(l.weight_elements) * l.weight_bits;
    weights += static_cast<double>(l.weight_elements);
    gbops += l.macs * l.weight_bits * l.act_bits / 1e9;
  }
  // The stem: 16 filters of 3x3 over one channel at 28x28, 8-bit weights, float input.
  EXPECT_DOUBLE_EQ(layers.front().macs, 16.0 * 9 * 28 * 28);
  EXPECT_EQ(layers.front().act_bits, kFloatBits);
  const ModelCost total = total_cost(layers);
  EXPECT_DOUBLE_EQ(total.weight_size_bits, size);
  EXPECT_DOUBLE_EQ(total.avg_weight_bits, size / weights);
  EXPECT_NEAR(total.gbops, gbops, 1e-12);
  EXPECT_GT(total.avg_weight_bits, 4.0);  // the 8-bit first and last layers lift the average
  EXPECT_LT(total.avg_weight_bits, 4.2);
}

TEST(CostModel, LossPullsLearnedBitsTowardTheTarget) {
  manual_seed(9);
  auto model = resnet20(1, 10);
  QuantPolicy p = policy("nipq", 6);
  p.weight.learn_bits = p.activation.learn_bits = true;
  const QuantizedModel q = quant::apply(*model, p);
  model->forward(Variable(images(2)));
  EXPECT_FALSE(cost_loss(q, {}).defined());
  const Variable loss = cost_loss(q, {.avg_bits = 3.0f, .gbops = 0, .weight = 1});
  ASSERT_TRUE(loss.defined());
  EXPECT_GT(loss.data().item(), 0.0f);
  loss.backward();
  Quantizer* wq = q.layers[1].layer->weight_quantizer();
  const Variable theta = test::parameter(*wq, "theta");
  ASSERT_TRUE(theta.grad().defined());
  EXPECT_GT(theta.grad().item(), 0.0f) << "above the target, descent lowers the bits";
  EXPECT_FALSE(test::parameter(*q.layers[0].layer->weight_quantizer(), "theta").requires_grad())
      << "the first layer's bits stay fixed";
  const Variable bops = cost_loss(q, {.avg_bits = 0, .gbops = 1e-6f, .weight = 1});
  ASSERT_TRUE(bops.defined());
  EXPECT_GT(bops.data().item(), 0.0f);
}

}  // namespace
}  // namespace qat
