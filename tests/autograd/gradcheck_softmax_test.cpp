// Gradient checks for softmax and log_softmax against central finite differences (f32, eps 1e-2,
// atol 2e-3, rtol 1e-2), value tests against a double-precision reference, and bad-input errors.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/ops/softmax.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

Tensor random(const Shape& shape, uint64_t seed) {
  return Generator(seed).uniform_tensor(shape, -2.0f, 2.0f);
}

// Softmax (or log-softmax) of a plain [outer, axis, inner] view, in double.
std::vector<float> reference(const Tensor& x, int axis, bool log) {
  const std::vector<float> v = x.to_vector();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.dim(i);
  for (int i = axis + 1; i < x.ndim(); ++i) inner *= x.dim(i);
  const int64_t n = x.dim(axis);
  std::vector<float> out(v.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const auto at = [&](int64_t c) { return (o * n + c) * inner + i; };
      double sum = 0.0;
      for (int64_t c = 0; c < n; ++c) sum += std::exp(static_cast<double>(v[at(c)]));
      for (int64_t c = 0; c < n; ++c)
        out[at(c)] = static_cast<float>(log ? v[at(c)] - std::log(sum) : std::exp(v[at(c)]) / sum);
    }
  return out;
}

void expect_near(const std::vector<float>& actual, const std::vector<float>& expected, float tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "element " << i;
}

TEST(GradcheckSoftmax, Softmax) {
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return softmax(in[0]); }, {random({3, 7}, 1)}),
            "");
  EXPECT_EQ(
      gradcheck([](const std::vector<Variable>& in) { return softmax(in[0], 1); }, {random({2, 4, 5}, 2)}),
      "");
}

TEST(GradcheckSoftmax, LogSoftmax) {
  EXPECT_EQ(
      gradcheck([](const std::vector<Variable>& in) { return log_softmax(in[0]); }, {random({3, 7}, 3)}), "");
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return log_softmax(in[0], 0); },
                      {random({4, 2, 3}, 4)}),
            "");
}

TEST(GradcheckSoftmax, SoftmaxMatchesReference) {
  const Tensor x = random({3, 5, 6}, 5);
  expect_near(softmax(Variable(x)).data().to_vector(), reference(x, 2, false), 1e-6f);
  expect_near(softmax(Variable(x), 1).data().to_vector(), reference(x, 1, false), 1e-6f);
  expect_near(softmax(Variable(x), -3).data().to_vector(), reference(x, 0, false), 1e-6f);
}

TEST(GradcheckSoftmax, LogSoftmaxMatchesReference) {
  const Tensor x = random({4, 9}, 6);
  expect_near(log_softmax(Variable(x)).data().to_vector(), reference(x, 1, true), 1e-5f);
  expect_near(log_softmax(Variable(x), 0).data().to_vector(), reference(x, 0, true), 1e-5f);
}

TEST(GradcheckSoftmax, LargeLogitsStayFinite) {
  const Tensor x = Tensor::from_vector({1, 3}, {1000.0f, 1001.0f, 1002.0f});
  const Tensor shifted = Tensor::from_vector({1, 3}, {0.0f, 1.0f, 2.0f});
  expect_near(softmax(Variable(x)).data().to_vector(), reference(shifted, 1, false), 1e-6f);
  expect_near(log_softmax(Variable(x)).data().to_vector(), reference(shifted, 1, true), 1e-5f);
}

TEST(GradcheckSoftmax, BlockedInputKeepsLayout) {
  // Over the channels of a channel-blocked tensor, as after a convolution.
  const Tensor plain = random({2, 16, 3, 3}, 7);
  const dnnl::memory::desc blocked({2, 16, 3, 3}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::nChw16c);
  Variable x(plain.to_layout(blocked), true);
  const Variable y = softmax(x, 1);
  EXPECT_TRUE(y.data().desc() == blocked);
  expect_near(y.data().to_vector(), reference(plain, 1, false), 1e-6f);
  y.backward(Tensor::full(y.shape(), 1.0f));
  // Softmax outputs sum to 1 along the axis, so a constant upstream gradient gives zero.
  for (float v : x.grad().to_vector()) ASSERT_NEAR(v, 0.0f, 1e-6f);
}

TEST(GradcheckSoftmax, SoftmaxBadAxisNamesShape) {
  try {
    softmax(Variable(Tensor::zeros({2, 3})), 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("softmax"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

TEST(GradcheckSoftmax, LogSoftmaxRejectsIntegerInput) {
  try {
    log_softmax(Variable(Tensor::zeros({2, 3}, DType::s32)));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("log_softmax"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3] s32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qat
