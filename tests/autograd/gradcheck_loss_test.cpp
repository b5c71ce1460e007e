// Gradient checks for cross_entropy against central finite differences (f32, eps 1e-2, atol 2e-3,
// rtol 1e-2), values against hand-computed losses, and bad-input errors.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/ops/loss.h"
#include "engine/error.h"
#include "engine/random.h"
#include "tests/test_util.h"

namespace qat {
namespace {

Tensor targets(const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, DType::s32);
  std::copy(values.begin(), values.end(), t.data<int32_t>());
  return t;
}

Tensor logits() { return Generator(1).uniform_tensor({5, 6}, -2.0f, 2.0f); }

// Rows [1, 2, 3] → class 2 and [1, 1, 1] → class 0.
Tensor small_logits() { return Tensor::from_vector({2, 3}, {1.0f, 2.0f, 3.0f, 1.0f, 1.0f, 1.0f}); }
// log(e + e² + e³) and log(3e): the two rows' log-sum-exp.
const double kLse0 = 3.0 + std::log(1.0 + std::exp(-1.0) + std::exp(-2.0));
const double kLse1 = 1.0 + std::log(3.0);

using test::error_of;

TEST(GradcheckLoss, CrossEntropy) {
  const Tensor t = targets({0, 5, 2, 2, 3});
  EXPECT_EQ(gradcheck([&](const std::vector<Variable>& in) { return cross_entropy(in[0], t); }, {logits()}),
            "");
}

TEST(GradcheckLoss, CrossEntropyLabelSmoothing) {
  const Tensor t = targets({1, 4, 0, 2, 3});
  EXPECT_EQ(
      gradcheck([&](const std::vector<Variable>& in) { return cross_entropy(in[0], t, 0.2f); }, {logits()}),
      "");
}

TEST(GradcheckLoss, CrossEntropyIgnoreIndex) {
  const Tensor t = targets({1, -1, 0, -1, 3});
  EXPECT_EQ(gradcheck([&](const std::vector<Variable>& in) { return cross_entropy(in[0], t, 0.1f, -1); },
                      {logits()}),
            "");
}

TEST(GradcheckLoss, CrossEntropyMatchesHandComputed) {
  EXPECT_NEAR(cross_entropy(Variable(small_logits()), targets({2, 0})).data().item(),
              ((kLse0 - 3.0) + (kLse1 - 1.0)) / 2.0, 1e-6);
}

TEST(GradcheckLoss, CrossEntropyLabelSmoothingMatchesHandComputed) {
  // (1 − ε)·(lse − x_target) + ε·(lse − mean x), row means 2 and 1.
  const double eps = 0.1;
  const double row0 = (1 - eps) * (kLse0 - 3.0) + eps * (kLse0 - 2.0);
  const double row1 = (1 - eps) * (kLse1 - 1.0) + eps * (kLse1 - 1.0);
  EXPECT_NEAR(cross_entropy(Variable(small_logits()), targets({2, 0}), 0.1f).data().item(),
              (row0 + row1) / 2.0, 1e-6);
}

TEST(GradcheckLoss, CrossEntropyIgnoredRowsDropOutOfMeanAndGradient) {
  Variable x(small_logits(), true);
  const Variable loss = cross_entropy(x, targets({2, -100}));
  EXPECT_NEAR(loss.data().item(), kLse0 - 3.0, 1e-6);
  loss.backward();
  const std::vector<float> g = x.grad().to_vector();
  // Row 0 alone: softmax − one-hot, divided by one counted row.
  EXPECT_NEAR(g[0], std::exp(1.0 - kLse0), 1e-6);
  EXPECT_NEAR(g[1], std::exp(2.0 - kLse0), 1e-6);
  EXPECT_NEAR(g[2], std::exp(3.0 - kLse0) - 1.0, 1e-6);
  for (int i = 3; i < 6; ++i) EXPECT_EQ(g[i], 0.0f);
}

TEST(GradcheckLoss, CrossEntropyAllIgnoredIsNaNWithZeroGradient) {
  Variable x(small_logits(), true);
  const Variable loss = cross_entropy(x, targets({-100, -100}));
  EXPECT_TRUE(std::isnan(loss.data().item()));
  loss.backward();
  for (float v : x.grad().to_vector()) EXPECT_EQ(v, 0.0f);
}

TEST(GradcheckLoss, CrossEntropyLargeLogitsStayFinite) {
  const Tensor big = Tensor::from_vector({2, 3}, {1001.0f, 1002.0f, 1003.0f, -999.0f, -999.0f, -999.0f});
  EXPECT_NEAR(cross_entropy(Variable(big), targets({2, 0})).data().item(),
              ((kLse0 - 3.0) + (kLse1 - 1.0)) / 2.0, 1e-4);
}

TEST(GradcheckLoss, CrossEntropyLargeBatchMatchesRowByRow) {
  // Big enough for the parallel path; each row checked against its own single-row loss.
  Generator gen(2);
  const Tensor x = gen.uniform_tensor({300, 257}, -3.0f, 3.0f);
  std::vector<int32_t> t(300);
  for (auto& v : t) v = static_cast<int32_t>(gen.below(257));
  double sum = 0.0;
  for (int64_t i = 0; i < 300; ++i)
    sum += cross_entropy(Variable(x.slice_rows(i, i + 1)), targets({t[i]}), 0.05f).data().item();
  EXPECT_NEAR(cross_entropy(Variable(x), targets(t), 0.05f).data().item(), sum / 300.0, 1e-5);
}

TEST(GradcheckLoss, CrossEntropyRejectsFloatTargets) {
  const std::string message = error_of([] { cross_entropy(Variable(small_logits()), Tensor::zeros({2})); });
  EXPECT_NE(message.find("cross_entropy"), std::string::npos) << message;
  EXPECT_NE(message.find("[2] f32"), std::string::npos) << message;
  EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
}

TEST(GradcheckLoss, CrossEntropyRejectsTargetCountMismatch) {
  const std::string message = error_of([] { cross_entropy(Variable(small_logits()), targets({0, 1, 2})); });
  EXPECT_NE(message.find("cross_entropy"), std::string::npos) << message;
  EXPECT_NE(message.find("[3] s32"), std::string::npos) << message;
  EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
}

TEST(GradcheckLoss, CrossEntropyTargetOutOfRangeNamesRow) {
  const std::string message = error_of([] { cross_entropy(Variable(small_logits()), targets({1, 3})); });
  EXPECT_NE(message.find("cross_entropy"), std::string::npos) << message;
  EXPECT_NE(message.find("target 3 of row 1"), std::string::npos) << message;
  EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
}

}  // namespace
}  // namespace qat
