// Gradient check for dropout against central finite differences (f32, eps 1e-2, atol 2e-3, rtol 1e-2;
// every evaluation recreates the generator from one seed, so all of them use the same mask), the kept
// fraction and scale, determinism by seed, and bad-input errors.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops/dropout.h"
#include "engine/error.h"

namespace qat {
namespace {

std::vector<float> dropped_ones(int64_t n, float p, uint64_t seed) {
  Generator gen(seed);
  return dropout(Variable(Tensor::full({n}, 1.0f)), p, true, gen).data().to_vector();
}

TEST(GradcheckDropout, Dropout) {
  const Tensor x = Generator(1).uniform_tensor({6, 7}, -1.0f, 1.0f);
  const auto f = [](const std::vector<Variable>& in) {
    Generator gen(42);
    return dropout(in[0], 0.4f, true, gen);
  };
  EXPECT_EQ(gradcheck(f, {x}), "");
}

TEST(GradcheckDropout, DropoutKeepsFractionAndScales) {
  const float p = 0.3f;
  const std::vector<float> y = dropped_ones(200000, p, 3);
  int64_t kept = 0;
  for (float v : y) {
    if (v == 0.0f) continue;
    ASSERT_FLOAT_EQ(v, 1.0f / (1.0f - p));
    ++kept;
  }
  // 4.5 standard deviations of a binomial(200000, 0.7) fraction is about 0.0046.
  EXPECT_NEAR(static_cast<double>(kept) / y.size(), 1.0 - p, 0.005);
}

TEST(GradcheckDropout, DropoutIsDeterministicBySeed) {
  EXPECT_EQ(dropped_ones(100000, 0.5f, 7), dropped_ones(100000, 0.5f, 7));
  EXPECT_NE(dropped_ones(100000, 0.5f, 7), dropped_ones(100000, 0.5f, 8));
}

TEST(GradcheckDropout, DropoutDrawsFreshMasksFromOneGenerator) {
  Generator gen(9);
  const Variable x(Tensor::full({1000}, 1.0f));
  EXPECT_NE(dropout(x, 0.5f, true, gen).data().to_vector(), dropout(x, 0.5f, true, gen).data().to_vector());
}

TEST(GradcheckDropout, DropoutBackwardUsesTheSavedMask) {
  Generator gen(11);
  Variable x(Tensor::full({5000}, 2.0f), true);
  const Variable y = dropout(x, 0.25f, true, gen);
  y.backward(Tensor::full({5000}, 1.0f));
  const std::vector<float> out = y.data().to_vector();
  const std::vector<float> grad = x.grad().to_vector();
  for (size_t i = 0; i < out.size(); ++i) ASSERT_FLOAT_EQ(grad[i], out[i] / 2.0f);
}

TEST(GradcheckDropout, DropoutIsIdentityWhenNotTrainingOrZeroP) {
  Generator gen(13);
  const Variable x(Tensor::full({4}, 1.5f), true);
  EXPECT_EQ(dropout(x, 0.5f, false, gen).impl(), x.impl());
  EXPECT_EQ(dropout(x, 0.0f, true, gen).impl(), x.impl());
}

TEST(GradcheckDropout, DropoutWithPOneZeroesEverything) {
  for (float v : dropped_ones(1000, 1.0f, 15)) ASSERT_EQ(v, 0.0f);
}

TEST(GradcheckDropout, DropoutRejectsBadProbability) {
  Generator gen(17);
  try {
    dropout(Variable(Tensor::zeros({2, 3})), 1.5f, true, gen);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dropout"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
