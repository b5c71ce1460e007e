// Gradient checks for the pooling ops against central finite differences (f32, eps 1e-2, atol 2e-3,
// rtol 1e-2). Max-pooling inputs are distinct values 0.05 apart, so a step of eps never changes which
// element is the maximum. Values are also checked against direct loops (tolerance 1e-5).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/ops/conv.h"
#include "autograd/ops/pool.h"
#include "engine/error.h"
#include "engine/random.h"
#include "tests/test_util.h"

namespace qat {
namespace {

// A shuffled ramp: every value distinct, neighbours in value 0.05 apart.
Tensor distinct_values(const Shape& shape, uint64_t seed) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) p[i] = 0.05f * static_cast<float>(i) - 0.025f * static_cast<float>(n);
  Generator gen(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[gen.below(i + 1)]);
  return t;
}

// Direct pooling over [N, C, H, W]: max of the in-bounds taps, or their sum over kernel² (padding counted).
std::vector<float> direct_pool(const Tensor& x, bool max, int64_t k, int64_t s, int64_t pad) {
  const Shape& d = x.shape();
  const int64_t oh = (d[2] + 2 * pad - k) / s + 1, ow = (d[3] + 2 * pad - k) / s + 1;
  const std::vector<float> v = x.to_vector();
  std::vector<float> out;
  for (int64_t nc = 0; nc < d[0] * d[1]; ++nc)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
        for (int64_t a = 0; a < k; ++a)
          for (int64_t b = 0; b < k; ++b) {
            const int64_t h = i * s - pad + a, w = j * s - pad + b;
            if (h < 0 || h >= d[2] || w < 0 || w >= d[3]) continue;
            const double value = v[(nc * d[2] + h) * d[3] + w];
            acc = max ? std::max(acc, value) : acc + value;
          }
        out.push_back(static_cast<float>(max ? acc : acc / static_cast<double>(k * k)));
      }
  return out;
}

void expect_values(const std::vector<float>& expected, const Tensor& actual) {
  const std::vector<float> got = actual.to_vector();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5) << "element " << i;
}

using test::error_of;

TEST(GradcheckPool, MaxPool2d) {
  const Tensor x = distinct_values({2, 3, 6, 6}, 1);
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return max_pool2d(in[0], 2, 2); }, {x}), "");
}

TEST(GradcheckPool, MaxPool2dOverlappingPadded) {
  const Tensor x = distinct_values({2, 2, 7, 7}, 2);
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return max_pool2d(in[0], 3, 2, 1); }, {x}), "");
}

TEST(GradcheckPool, AvgPool2d) {
  const Tensor x = Generator(3).uniform_tensor({2, 3, 7, 7}, -1.0f, 1.0f);
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return avg_pool2d(in[0], 3, 2, 1); }, {x}), "");
}

TEST(GradcheckPool, GlobalAvgPool2d) {
  const Tensor x = Generator(4).uniform_tensor({2, 3, 5, 4}, -1.0f, 1.0f);
  EXPECT_EQ(gradcheck([](const std::vector<Variable>& in) { return global_avg_pool2d(in[0]); }, {x}), "");
}

TEST(GradcheckPool, PoolingMatchesDirectLoops) {
  const Tensor x = Generator(5).uniform_tensor({2, 3, 7, 7}, -1.0f, 1.0f);
  const Variable v(x);
  EXPECT_EQ(max_pool2d(v, 2, 2).shape(), (Shape{2, 3, 3, 3}));  // floor mode
  expect_values(direct_pool(x, true, 2, 2, 0), max_pool2d(v, 2, 2).data());
  expect_values(direct_pool(x, true, 3, 2, 1), max_pool2d(v, 3, 2, 1).data());
  expect_values(direct_pool(x, false, 3, 2, 1), avg_pool2d(v, 3, 2, 1).data());
  expect_values(direct_pool(x, false, 2, 2, 0), avg_pool2d(v, 2, 2).data());
  const Variable global = global_avg_pool2d(v);
  EXPECT_EQ(global.shape(), (Shape{2, 3, 1, 1}));
  expect_values(direct_pool(x, false, 7, 7, 0), global.data());
}

// Corner windows of a padded average count the padding: a window holding one 1 averages to 1/9.
TEST(GradcheckPool, AvgPool2dCountsPadding) {
  const Variable y = avg_pool2d(Variable(Tensor::full({1, 1, 2, 2}, 1.0f)), 3, 1, 1);
  expect_values({4.0f / 9, 4.0f / 9, 4.0f / 9, 4.0f / 9}, y.data());
}

// The gradient of max pooling goes to the arg-max only; of average pooling, spread over the window.
TEST(GradcheckPool, PoolingGradientValues) {
  Variable x(Tensor::from_vector({1, 1, 2, 2}, {1, 4, 3, 2}), true);
  max_pool2d(x, 2, 2).backward();
  expect_values({0, 1, 0, 0}, x.grad());
  x.zero_grad();
  global_avg_pool2d(x).backward();
  expect_values({0.25f, 0.25f, 0.25f, 0.25f}, x.grad());
}

// Blocked input (a conv output with 16 channels) pools to the same values as its plain copy.
TEST(GradcheckPool, BlockedInputMatchesPlain) {
  const Variable x(Generator(6).uniform_tensor({2, 8, 6, 6}, -1.0f, 1.0f));
  const Variable w(Generator(7).uniform_tensor({16, 8, 3, 3}, -1.0f, 1.0f));
  const Variable y = conv2d(x, w, Variable(), {.padding = 1});
  ASSERT_FALSE(y.data().is_plain());
  const Tensor plain = y.data().contiguous();
  expect_values(direct_pool(plain, true, 3, 2, 1), max_pool2d(y, 3, 2, 1).data());
  expect_values(direct_pool(plain, false, 2, 2, 0), avg_pool2d(y, 2, 2).data());
  expect_values(direct_pool(plain, false, 6, 6, 0), global_avg_pool2d(y).data());
}

TEST(GradcheckPool, RejectsBadInput) {
  const std::string rank = error_of([] { max_pool2d(Variable(Tensor::zeros({3, 6, 6})), 2, 2); });
  EXPECT_NE(rank.find("max_pool2d"), std::string::npos) << rank;
  EXPECT_NE(rank.find("[3, 6, 6]"), std::string::npos) << rank;
  const std::string pad = error_of([] { avg_pool2d(Variable(Tensor::zeros({1, 2, 6, 6})), 2, 2, 2); });
  EXPECT_NE(pad.find("avg_pool2d"), std::string::npos) << pad;
  EXPECT_NE(pad.find("[1, 2, 6, 6]"), std::string::npos) << pad;
  const std::string big = error_of([] { max_pool2d(Variable(Tensor::zeros({1, 2, 3, 3})), 5, 1); });
  EXPECT_NE(big.find("[1, 2, 3, 3]"), std::string::npos) << big;
  const std::string global = error_of([] { global_avg_pool2d(Variable(Tensor::zeros({2, 4}))); });
  EXPECT_NE(global.find("global_avg_pool2d"), std::string::npos) << global;
  EXPECT_NE(global.find("[2, 4]"), std::string::npos) << global;
}

}  // namespace
}  // namespace qat
