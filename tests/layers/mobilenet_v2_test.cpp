// MobileNetV2: structure and size against torchvision, output shape, training, state dict, errors.
#include "layers/models/mobilenet_v2.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "autograd/grad_mode.h"
#include "autograd/ops/loss.h"
#include "engine/error.h"
#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/models/inverted_residual.h"

namespace qat {
namespace {

int64_t parameter_count(const Module& m) {
  int64_t count = 0;
  for (const auto& p : m.parameters()) count += p.numel();
  return count;
}

Tensor class_targets(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Tensor t = Tensor::empty({n}, DType::s32);
  for (int64_t i = 0; i < n; ++i) t.data<int32_t>()[i] = static_cast<int32_t>(gen.below(10));
  return t;
}

TEST(MobileNetV2, OutputShape) {
  auto model = mobilenet_v2({.in_channels = 1, .num_classes = 10});
  EXPECT_EQ(model->forward(Variable(Generator(1).normal_tensor({2, 1, 28, 28}))).shape(), (Shape{2, 10}));
}

TEST(MobileNetV2, SizeMatchesTorchvision) {
  // Obtained with Debian's torchvision 0.14: m = torchvision.models.mobilenet_v2(num_classes=10,
  // width_mult=w); m.features[0][0] = nn.Conv2d(1, m.features[0][0].out_channels, 3, 1, 1, bias=False);
  // sum(p.numel() for p in m.parameters()).
  EXPECT_EQ(parameter_count(*mobilenet_v2({.in_channels = 1, .num_classes = 10})), 2236106);
  EXPECT_EQ(parameter_count(*mobilenet_v2({.width = 0.5, .in_channels = 1, .num_classes = 10})), 700202);
}

TEST(MobileNetV2, BlocksAndResiduals) {
  auto model = mobilenet_v2({.in_channels = 1, .num_classes = 10});
  int blocks = 0, residuals = 0;
  for (const auto& [name, child] : model->children())
    if (auto* block = dynamic_cast<InvertedResidual*>(child.get())) {
      ++blocks;
      residuals += block->residual();
    }
  EXPECT_EQ(blocks, 17);
  // Stride-1 blocks with in == out: the repeats of every stage with n > 1.
  EXPECT_EQ(residuals, 10);
  // block1 has no expansion: its first child is the depthwise unit.
  const auto& block1 = model->children()[1];
  ASSERT_EQ(block1.first, "block1");
  ASSERT_EQ(block1.second->children()[0].first, "dw");
  auto* dw = dynamic_cast<Conv2d*>(block1.second->children()[0].second->children()[0].second.get());
  ASSERT_NE(dw, nullptr);
  EXPECT_EQ(dw->options().groups, 32);
}

TEST(MobileNetV2, InitializesLikeTorchvision) {
  manual_seed(3);
  auto model = mobilenet_v2({.in_channels = 1, .num_classes = 10});
  std::map<std::string, double> rms;
  for (const auto& [name, p] : model->named_parameters()) {
    double sq = 0.0;
    for (float x : p.data().to_vector()) sq += double(x) * x;
    rms[name] = std::sqrt(sq / p.numel());
  }
  // Kaiming normal, fan out: the 1x1 head conv has fan out 1280, a depthwise 3x3 conv 9 per channel.
  EXPECT_NEAR(rms["head.conv.weight"], std::sqrt(2.0 / 1280), 0.05 * std::sqrt(2.0 / 1280));
  EXPECT_NEAR(rms["block2.dw.conv.weight"], std::sqrt(2.0 / (96 * 9)), 0.1 * std::sqrt(2.0 / (96 * 9)));
  EXPECT_NEAR(rms["classifier.weight"], 0.01, 0.001);
  EXPECT_EQ(rms["classifier.bias"], 0.0);
  EXPECT_EQ(rms["head.bn.weight"], 1.0);
  EXPECT_EQ(rms["head.bn.bias"], 0.0);
}

TEST(MobileNetV2, LossFallsOverSgdSteps) {
  manual_seed(4);
  auto model = mobilenet_v2({.width = 0.5, .in_channels = 1, .num_classes = 10, .dropout = 0.0f});
  const Tensor x = Generator(5).normal_tensor({8, 1, 28, 28});
  const Tensor y = class_targets(8, 6);
  auto params = model->parameters();
  float first = 0.0f, last = 0.0f;
  for (int step = 0; step < 12; ++step) {
    for (auto& p : params) p.zero_grad();
    const Variable loss = cross_entropy(model->forward(Variable(x)), y);
    loss.backward();
    for (auto& p : params) {
      const Tensor g = p.grad().contiguous();
      Tensor w = p.data().clone();
      const float* dw = g.data<float>();
      float* pw = w.data<float>();
      for (int64_t j = 0; j < w.numel(); ++j) pw[j] -= 0.03f * dw[j];
      p.set_data(w);
    }
    (step == 0 ? first : last) = loss.data().item();
  }
  EXPECT_LT(last, 0.5f * first) << "first " << first;
}

TEST(MobileNetV2, StateDictRoundTrip) {
  manual_seed(7);
  auto a = mobilenet_v2({.width = 0.5, .in_channels = 1, .num_classes = 10});
  a->forward(Variable(Generator(8).normal_tensor({4, 1, 28, 28})));  // moves the running statistics
  manual_seed(9);
  auto b = mobilenet_v2({.width = 0.5, .in_channels = 1, .num_classes = 10});
  b->load_state_dict(a->state_dict());
  a->eval();
  b->eval();
  const Tensor x = Generator(10).normal_tensor({2, 1, 28, 28});
  NoGrad no_grad;
  EXPECT_EQ(a->forward(Variable(x)).data().to_vector(), b->forward(Variable(x)).data().to_vector());
  EXPECT_EQ(a->state_dict().count("block2.expand.bn.running_var"), 1u);
}

TEST(MobileNetV2, BadOptionsAndInputsAreNamed) {
  try {
    mobilenet_v2({.width = 0.0, .in_channels = 1, .num_classes = 10});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mobilenet_v2: width 0"), std::string::npos) << e.what();
  }
  auto model = mobilenet_v2({.in_channels = 1, .num_classes = 10});
  try {
    model->forward(Variable(Tensor::zeros({2, 3, 28, 28})));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3, 28, 28]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
