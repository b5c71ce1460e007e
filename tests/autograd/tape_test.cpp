// Tests of the tape itself with two tiny ops defined here (scale and plus), so that the tape is tested
// independently of the op families: diamonds, reuse, NoGrad, freed graphs and memory stability.
#include <gtest/gtest.h>

#include <span>

#include "autograd/grad_mode.h"
#include "autograd/ops/activation.h"
#include "engine/error.h"
#include "engine/storage.h"

namespace qat {
namespace {

Tensor scaled(const Tensor& t, float c) {
  Tensor out = t.clone();
  for (float& v : std::span(out.data<float>(), out.numel())) v *= c;
  return out;
}

Variable scale(const Variable& x, float c) {
  return Variable::record("scale", scaled(x.data(), c), {x},
                          [c](const Tensor& g) -> std::vector<Tensor> { return {scaled(g, c)}; });
}

Variable plus(const Variable& a, const Variable& b) {
  Tensor out = a.data().clone();
  for (int64_t i = 0; i < out.numel(); ++i) out.data<float>()[i] += b.data().data<float>()[i];
  return Variable::record("plus", out, {a, b}, [](const Tensor& g) -> std::vector<Tensor> { return {g, g}; });
}

TEST(Tape, DiamondAccumulatesBothPaths) {
  Variable x(Tensor::from_vector({2}, {1.0f, -2.0f}), true);
  const Variable s = scale(x, 3.0f);
  const Variable y = plus(scale(s, 2.0f), scale(s, 5.0f));  // y = 21 x
  y.backward(Tensor::full({2}, 1.0f));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{21.0f, 21.0f}));
}

TEST(Tape, ReusedInputGetsSummedGradient) {
  Variable x(Tensor::from_vector({3}, {1.0f, 2.0f, 3.0f}), true);
  const Variable y = plus(x, x);  // both edges point at the same leaf
  y.backward(Tensor::from_vector({3}, {1.0f, 10.0f, 100.0f}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2.0f, 20.0f, 200.0f}));
}

TEST(Tape, PassThroughGradientIsNotAliasedWhenAccumulating) {
  // plus hands the same tensor to both inputs; accumulating into one must not change the other.
  Variable a(Tensor::from_vector({1}, {0.0f}), true);
  Variable b(Tensor::from_vector({1}, {0.0f}), true);
  const Variable y = plus(plus(a, b), scale(a, 4.0f));
  y.backward(Tensor::full({1}, 1.0f));
  EXPECT_EQ(a.grad().item(), 5.0f);
  EXPECT_EQ(b.grad().item(), 1.0f);
}

TEST(Tape, GradientsAccumulateAcrossBackwardCalls) {
  Variable x(Tensor::from_vector({1}, {1.0f}), true);
  scale(x, 2.0f).backward();
  scale(x, 3.0f).backward();
  EXPECT_EQ(x.grad().item(), 5.0f);
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

// The hook of a leaf used early and late in the forward fires once, after both accumulations; the hook of
// a leaf used only last fires before the tape has reached the first leaf (what lets communication overlap
// the rest of the backward pass): early then holds only the partial gradient of the last op.
TEST(Tape, GradReadyHookFiresOnceAfterTheLastAccumulation) {
  Variable early(Tensor::from_vector({2}, {1.0f, 2.0f}), true),
      late(Tensor::from_vector({2}, {3.0f, 4.0f}), true);
  std::vector<std::vector<float>> early_seen, late_seen;
  std::vector<float> early_when_late_fired;
  early.set_grad_ready_hook([&] { early_seen.push_back(early.grad().to_vector()); });
  late.set_grad_ready_hook([&] {
    late_seen.push_back(late.grad().to_vector());
    early_when_late_fired = early.grad().to_vector();
  });
  // y = 2 (3 early + late) + early = 7 early + 2 late
  const Variable y = plus(scale(plus(scale(early, 3.0f), late), 2.0f), early);
  y.backward(Tensor::full({2}, 1.0f));
  ASSERT_EQ(early_seen.size(), 1u);
  EXPECT_EQ(early_seen[0], (std::vector<float>{7.0f, 7.0f}));
  ASSERT_EQ(late_seen.size(), 1u);
  EXPECT_EQ(late_seen[0], (std::vector<float>{2.0f, 2.0f}));
  EXPECT_EQ(early_when_late_fired, (std::vector<float>{1.0f, 1.0f}));
  late.set_grad_ready_hook({});
  early.zero_grad();
  late.zero_grad();
  plus(early, late).backward(Tensor::full({2}, 1.0f));
  EXPECT_EQ(early_seen.size(), 2u);
  EXPECT_EQ(late_seen.size(), 1u);  // removed
}

TEST(Tape, NoGradRecordsNothing) {
  Variable x(Tensor::from_vector({1}, {1.0f}), true);
  Variable y;
  {
    NoGrad guard;
    y = scale(x, 2.0f);
  }
  EXPECT_TRUE(y.is_leaf());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(GradMode::enabled());
  EXPECT_THROW(y.backward(), Error);
}

TEST(Tape, InputsWithoutGradGetNone) {
  Variable x(Tensor::from_vector({1}, {1.0f}), true);
  Variable c(Tensor::from_vector({1}, {7.0f}), false);
  plus(x, c).backward();
  EXPECT_EQ(x.grad().item(), 1.0f);
  EXPECT_FALSE(c.grad().defined());
}

TEST(Tape, SecondBackwardThroughFreedGraphNamesTheOp) {
  Variable x(Tensor::from_vector({2, 2}, {1, 2, 3, 4}), true);
  const Variable y = scale(sigmoid(x), 2.0f);
  y.backward(Tensor::full({2, 2}, 1.0f));
  try {
    y.backward(Tensor::full({2, 2}, 1.0f));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("freed graph"), std::string::npos) << message;
    EXPECT_NE(message.find("scale([2, 2])"), std::string::npos) << message;
  }
}

TEST(Tape, RetainGraphAllowsSecondBackward) {
  Variable x(Tensor::from_vector({1}, {1.0f}), true);
  const Variable y = scale(x, 3.0f);
  y.backward(true);
  y.backward();
  EXPECT_EQ(x.grad().item(), 6.0f);
}

TEST(Tape, SeedShapeMismatchIsRejected) {
  Variable x(Tensor::from_vector({2}, {1.0f, 2.0f}), true);
  EXPECT_THROW(scale(x, 2.0f).backward(Tensor::full({3}, 1.0f)), Error);
}

TEST(Tape, NoMemoryGrowthOverRepeatedSteps) {
  Variable x(Tensor::full({64, 64}, 0.5f), true);
  auto step = [&] {
    x.zero_grad();
    const Variable y = plus(tanh(scale(x, 2.0f)), sigmoid(x));
    y.backward(Tensor::full({64, 64}, 1.0f));
  };
  step();
  const int64_t after_first = Storage::live_bytes();
  for (int i = 0; i < 20; ++i) step();
  EXPECT_EQ(Storage::live_bytes(), after_first);
}

}  // namespace
}  // namespace qat
