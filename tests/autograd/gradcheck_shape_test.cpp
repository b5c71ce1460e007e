// Gradient checks for the shape ops (f32, eps 1e-2, atol 2e-3, rtol 1e-2) plus value and error tests.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops/shape.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

Tensor sample(const Shape& shape) { return Generator(31).uniform_tensor(shape, -1.0f, 1.0f); }

TEST(GradcheckShape, Reshape) {
  EXPECT_EQ(gradcheck(
                [](const std::vector<Variable>& in) {
                  return reshape(in[0], {4, -1});
                },
                {sample({2, 3, 4})}),
            "");
}

TEST(GradcheckShape, Flatten) {
  EXPECT_EQ(
      gradcheck([](const std::vector<Variable>& in) { return flatten(in[0], 1); }, {sample({2, 3, 2, 2})}),
      "");
}

TEST(GradcheckShape, Permute) {
  EXPECT_EQ(gradcheck(
                [](const std::vector<Variable>& in) {
                  return permute(in[0], {2, 0, 1});
                },
                {sample({2, 3, 4})}),
            "");
}

TEST(GradcheckShape, Transpose) {
  EXPECT_EQ(
      gradcheck([](const std::vector<Variable>& in) { return transpose(in[0], 0, -1); }, {sample({3, 2, 4})}),
      "");
}

TEST(GradcheckShape, Slice) {
  EXPECT_EQ(
      gradcheck([](const std::vector<Variable>& in) { return slice(in[0], 1, 1, 3); }, {sample({2, 4, 3})}),
      "");
}

TEST(GradcheckShape, Concat) {
  EXPECT_EQ(gradcheck(
                [](const std::vector<Variable>& in) {
                  return concat({in[0], in[1]}, -1);
                },
                {sample({2, 3, 2}), sample({2, 3, 4})}),
            "");
}

TEST(GradcheckShape, SliceAndConcatValues) {
  const Variable x(Tensor::from_vector({2, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(slice(x, 1, 1, 3).data().to_vector(), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(concat({x, x}, 0).shape(), (Shape{4, 3}));
  EXPECT_EQ(concat({slice(x, 1, 0, 1), slice(x, 1, 1, 3)}, 1).data().to_vector(), x.data().to_vector());
  EXPECT_THROW(slice(x, 1, 2, 4), Error);
  EXPECT_THROW(concat({x, Variable(Tensor::zeros({3, 2}))}, 0), Error);
}

TEST(GradcheckShape, Values) {
  const Variable x(Tensor::from_vector({2, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(transpose(x, 0, 1).data().to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(transpose(x, 0, 1).shape(), (Shape{3, 2}));
  EXPECT_EQ(reshape(x, {-1}).shape(), (Shape{6}));
  EXPECT_EQ(flatten(Variable(Tensor::zeros({2, 3, 4})), 1).shape(), (Shape{2, 12}));
}

TEST(GradcheckShape, BadShapesNameOpAndShape) {
  const Variable x(Tensor::zeros({2, 3}));
  try {
    reshape(x, {4, -1});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reshape"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(permute(x, {0, 0}), Error);
  EXPECT_THROW(transpose(x, 0, 2), Error);
}

}  // namespace
}  // namespace qat
