// Gradient checks for sum and mean (f32, eps 1e-2, atol 2e-3, rtol 1e-2) plus value and error tests.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops/reduce.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

Tensor sample() { return Generator(41).uniform_tensor({2, 3, 4}, -1.0f, 1.0f); }

TEST(GradcheckReduce, Sum) {
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return sum(in[0], {1}); }, {sample()}), "");
  EXPECT_EQ(gradcheck(
                [](const std::vector<Variable>& in) {
                  return sum(in[0], {0, -1}, true);
                },
                {sample()}),
            "");
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return sum(in[0]); }, {sample()}), "");
}

TEST(GradcheckReduce, Mean) {
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return mean(in[0], {2}); }, {sample()}), "");
  EXPECT_EQ(gradcheck(
                [](const std::vector<Variable>& in) {
                  return mean(in[0], {0, 2}, true);
                },
                {sample()}),
            "");
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return mean(in[0]); }, {sample()}), "");
}

TEST(GradcheckReduce, Values) {
  const Variable x(Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(sum(x, {0}).data().to_vector(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(sum(x, {1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(mean(x, {1}).data().to_vector(), (std::vector<float>{2, 5}));
  EXPECT_EQ(sum(x).shape(), Shape{});
  EXPECT_EQ(mean(x).data().item(), 3.5f);
}

TEST(GradcheckReduce, BadAxesNameOpAndShape) {
  const Variable x(Tensor::zeros({2, 3}));
  try {
    sum(x, {2});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sum"), std::string::npos) << e.what();
  }
  try {
    mean(x, {1, -1});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
