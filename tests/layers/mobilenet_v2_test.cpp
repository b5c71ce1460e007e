// MobileNetV2: the architecture matches torchvision's (parameter counts), shapes for 28x28 inputs,
// residual placement, and a few SGD steps lower the loss on a fixed batch.
#include "layers/models/mobilenet_v2.h"

#include <gtest/gtest.h>

#include "autograd/ops/loss.h"
#include "engine/error.h"
#include "engine/random.h"
#include "tests/layers/sign_descent.h"

namespace qat {
namespace {

int64_t count(const std::vector<Variable>& params) {
  int64_t n = 0;
  for (const Variable& p : params) n += p.numel();
  return n;
}

// Reference counts from Debian's PyTorch 1.13 / torchvision 0.14:
//   m = torchvision.models.mobilenet_v2(num_classes=10, width_mult=W)
//   m.features[0][0] = nn.Conv2d(1, 32·W, 3, 1, 1, bias=False); sum(p.numel() for p in m.parameters())
TEST(MobileNetV2, ParameterCountsMatchTorchvision) {
  EXPECT_EQ(count(mobilenet_v2({.in_channels = 1, .num_classes = 10})->parameters()), 2236106);
  EXPECT_EQ(
      count(mobilenet_v2({.in_channels = 1, .num_classes = 10, .width_multiplier = 0.5f})->parameters()),
      700202);
  int64_t buffers = 0;
  const auto model = mobilenet_v2({.in_channels = 1, .num_classes = 10});
  for (const auto& [name, buffer] : model->named_buffers()) buffers += buffer->numel();
  EXPECT_EQ(buffers, 34112);  // BN running means and variances
}

TEST(MobileNetV2, ClassifiesSmallImagesAndLearns) {
  manual_seed(3);
  auto model =
      mobilenet_v2({.in_channels = 1, .num_classes = 10, .width_multiplier = 0.25f, .dropout = 0.0f});
  const Tensor x = Generator(4).normal_tensor({8, 1, 28, 28});
  Tensor y = Tensor::empty({8}, DType::s32);
  for (int i = 0; i < 8; ++i) y.data<int32_t>()[i] = i % 10;
  EXPECT_EQ(model->forward(Variable(x)).shape(), (Shape{8, 10}));
  double first = 0, last = 0;
  for (int step = 0; step < 8; ++step) {
    for (Variable& p : model->parameters()) p.zero_grad();
    const Variable loss = cross_entropy(model->forward(Variable(x)), y);
    loss.backward();
    for (Variable& p : model->parameters()) testing::sign_descent(p, 0.01f);
    (step == 0 ? first : last) = loss.data().item();
  }
  EXPECT_LT(last, 0.7 * first);
}

TEST(MobileNetV2, RejectsBadOptions) {
  try {
    mobilenet_v2({.in_channels = 1, .num_classes = 0});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mobilenet_v2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
