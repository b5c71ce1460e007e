// Gradient checks for the arithmetic ops against central finite differences (f32, eps 1e-2,
// atol 2e-3, rtol 1e-2), with same-shape and broadcasting operands, plus value and error tests.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops/arithmetic.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

using BinaryOp = Variable (*)(const Variable&, const Variable&);

void expect_binary_gradients(BinaryOp op, const Shape& a, const Shape& b, float lo = -2.0f) {
  Generator gen(21);
  const Tensor x = gen.uniform_tensor(a, lo, 2.0f), y = gen.uniform_tensor(b, 0.5f, 2.0f);
  EXPECT_EQ(gradcheck([op](const std::vector<Variable>& in) { return op(in[0], in[1]); }, {x, y}), "")
      << to_string(a) << " with " << to_string(b);
}

TEST(GradcheckArithmetic, Add) {
  expect_binary_gradients(add, {2, 3, 4}, {2, 3, 4});
  expect_binary_gradients(add, {2, 3, 4}, {3, 1});
  expect_binary_gradients(add, {3, 1}, {2, 3, 4});
}

TEST(GradcheckArithmetic, Sub) {
  expect_binary_gradients(sub, {2, 5}, {2, 5});
  expect_binary_gradients(sub, {4, 1, 5}, {1, 3, 1});
}

TEST(GradcheckArithmetic, Mul) {
  expect_binary_gradients(mul, {3, 4}, {3, 4});
  expect_binary_gradients(mul, {4, 1, 5}, {1, 3, 1});
}

TEST(GradcheckArithmetic, Div) {
  expect_binary_gradients(div, {3, 4}, {3, 4});
  expect_binary_gradients(div, {2, 3, 4}, {4});
  expect_binary_gradients(div, {4}, {2, 3, 4});
}

TEST(GradcheckArithmetic, Affine) {
  Generator gen(22);
  const Tensor x = gen.uniform_tensor({3, 5}, -1.0f, 1.0f);
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return in[0] * 3.0f - 1.5f; }, {x}), "");
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return -in[0] / 4.0f; }, {x}), "");
}

TEST(GradcheckArithmetic, BroadcastValues) {
  const Variable a(Tensor::from_vector({2, 2}, {1, 2, 3, 4})), b(Tensor::from_vector({2}, {10, 20}));
  EXPECT_EQ((a + b).data().to_vector(), (std::vector<float>{11, 22, 13, 24}));
  EXPECT_EQ((b - a).data().to_vector(), (std::vector<float>{9, 18, 7, 16}));
  EXPECT_EQ((a * b).data().to_vector(), (std::vector<float>{10, 40, 30, 80}));
  EXPECT_EQ((b / a).data().to_vector(), (std::vector<float>{10, 10, 10.0f / 3, 5}));
}

TEST(GradcheckArithmetic, SameShapeAddOnBlockedLayouts) {
  Generator gen(23);
  const Tensor x = gen.normal_tensor({2, 19, 3, 3}), y = gen.normal_tensor({2, 19, 3, 3});
  const dnnl::memory::desc blocked({2, 19, 3, 3}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::nChw16c);
  const Tensor sum = add(Variable(x.to_layout(blocked)), Variable(y.to_layout(blocked))).data();
  EXPECT_EQ(sum.desc(), blocked);
  const std::vector<float> got = sum.contiguous().to_vector(), a = x.to_vector(), b = y.to_vector();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], a[i] + b[i]);
}

TEST(GradcheckArithmetic, IncompatibleShapesNameOpAndShapes) {
  const Variable a(Tensor::zeros({2, 3})), b(Tensor::zeros({4}));
  try {
    mul(a, b);
    FAIL();
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("mul"), std::string::npos) << message;
    EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
    EXPECT_NE(message.find("[4]"), std::string::npos) << message;
  }
  EXPECT_THROW(add(a, Variable(Tensor::zeros({2, 3}, DType::s32))), Error);
}

}  // namespace
}  // namespace qat
