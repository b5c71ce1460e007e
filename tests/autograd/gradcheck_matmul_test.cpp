// Gradient checks for linear and matmul against central finite differences (f32, eps 1e-2, atol 2e-3,
// rtol 1e-2; both ops are linear in each input, so the differences are exact up to f32 rounding), value
// tests against a naive triple loop, and bad-input errors.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops/matmul.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"
#include "engine/random.h"
#include "tests/test_util.h"

namespace qat {
namespace {

Tensor random(const Shape& shape, uint64_t seed) {
  return Generator(seed).uniform_tensor(shape, -1.0f, 1.0f);
}

// Stored shape of an operand whose product view is [rows, cols] behind `batch`.
Shape stored(const Shape& batch, int64_t rows, int64_t cols, bool transpose) {
  Shape shape = batch;
  shape.push_back(transpose ? cols : rows);
  shape.push_back(transpose ? rows : cols);
  return shape;
}

// op(a)·op(b) by the definition, for operands with equal batch dims.
std::vector<float> naive_matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const std::vector<float> va = a.to_vector();
  const std::vector<float> vb = b.to_vector();
  const int64_t m = ta ? a.dim(-1) : a.dim(-2);
  const int64_t k = ta ? a.dim(-2) : a.dim(-1);
  const int64_t n = tb ? b.dim(-2) : b.dim(-1);
  const int64_t batches = a.numel() / (m * k);
  std::vector<float> out(batches * m * n, 0.0f);
  for (int64_t s = 0; s < batches; ++s)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          const float x = va[s * m * k + (ta ? p * m + i : i * k + p)];
          const float y = vb[s * k * n + (tb ? j * k + p : p * n + j)];
          sum += static_cast<double>(x) * y;
        }
        out[(s * m + i) * n + j] = static_cast<float>(sum);
      }
  return out;
}

void expect_near(const std::vector<float>& actual, const std::vector<float>& expected, float tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "element " << i;
}

using test::error_of;

TEST(GradcheckMatmul, Linear) {
  const auto f = [](const std::vector<Variable>& in) { return linear(in[0], in[1], in[2]); };
  EXPECT_EQ(gradcheck(f, {random({4, 6}, 1), random({5, 6}, 2), random({5}, 3)}), "");
}

TEST(GradcheckMatmul, LinearWithoutBias) {
  const auto f = [](const std::vector<Variable>& in) { return linear(in[0], in[1], Variable()); };
  EXPECT_EQ(gradcheck(f, {random({4, 6}, 4), random({5, 6}, 5)}), "");
}

TEST(GradcheckMatmul, Linear3d) {
  const auto f = [](const std::vector<Variable>& in) { return linear(in[0], in[1], in[2]); };
  EXPECT_EQ(gradcheck(f, {random({2, 3, 6}, 6), random({5, 6}, 7), random({5}, 8)}), "");
}

TEST(GradcheckMatmul, Matmul) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const auto f = [ta, tb](const std::vector<Variable>& in) { return matmul(in[0], in[1], ta, tb); };
      EXPECT_EQ(gradcheck(f, {random(stored({}, 3, 5, ta), 9), random(stored({}, 5, 4, tb), 10)}), "")
          << "transpose_a " << ta << ", transpose_b " << tb;
    }
}

TEST(GradcheckMatmul, MatmulBatched) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const auto f = [ta, tb](const std::vector<Variable>& in) { return matmul(in[0], in[1], ta, tb); };
      EXPECT_EQ(gradcheck(f, {random(stored({2, 2}, 3, 4, ta), 11), random(stored({2, 2}, 4, 3, tb), 12)}),
                "")
          << "transpose_a " << ta << ", transpose_b " << tb;
    }
}

TEST(GradcheckMatmul, MatmulBroadcast) {
  // b is shared by every batch of a, and a's middle batch dim of 1 broadcasts against b's 3.
  const auto f = [](const std::vector<Variable>& in) { return matmul(in[0], in[1], false, true); };
  EXPECT_EQ(gradcheck(f, {random({2, 1, 3, 4}, 13), random({3, 5, 4}, 14)}), "");
}

TEST(GradcheckMatmul, MatmulMatchesNaive) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const Tensor a = random(stored({3, 2}, 17, 33, ta), 15);
      const Tensor b = random(stored({3, 2}, 33, 19, tb), 16);
      const Variable y = matmul(Variable(a), Variable(b), ta, tb);
      EXPECT_EQ(y.shape(), (Shape{3, 2, 17, 19}));
      expect_near(y.data().to_vector(), naive_matmul(a, b, ta, tb), 1e-4f);
    }
}

TEST(GradcheckMatmul, MatmulBroadcastMatchesNaive) {
  const Tensor a = random({4, 6, 7}, 17);
  const Tensor b = random({7, 5}, 18);
  const std::vector<float> va = a.to_vector();
  std::vector<float> expected;
  for (int64_t s = 0; s < 4; ++s) {
    const Tensor slice = Tensor::from_vector({6, 7}, {va.begin() + s * 42, va.begin() + (s + 1) * 42});
    const std::vector<float> part = naive_matmul(slice, b, false, false);
    expected.insert(expected.end(), part.begin(), part.end());
  }
  expect_near(matmul(Variable(a), Variable(b)).data().to_vector(), expected, 1e-4f);
}

TEST(GradcheckMatmul, LinearMatchesNaive) {
  const Tensor x = random({2, 3, 8}, 19);
  const Tensor w = random({5, 8}, 20);
  const Tensor bias = random({5}, 21);
  const Variable y = linear(Variable(x), Variable(w), Variable(bias));
  EXPECT_EQ(y.shape(), (Shape{2, 3, 5}));
  std::vector<float> expected = naive_matmul(x.reshape({6, 8}), w, false, true);
  const std::vector<float> vb = bias.to_vector();
  for (size_t i = 0; i < expected.size(); ++i) expected[i] += vb[i % 5];
  expect_near(y.data().to_vector(), expected, 1e-5f);
}

TEST(GradcheckMatmul, LinearBiasGradientSumsRows) {
  // Large enough for the parallel path; the gradient sums exactly in f32.
  Variable x(random({300, 64}, 22));
  Variable w(random({260, 64}, 23), true);
  Variable bias(Tensor::zeros({260}), true);
  linear(x, w, bias).backward(Tensor::full({300, 260}, 0.5f));
  for (float v : bias.grad().to_vector()) ASSERT_EQ(v, 150.0f);
  EXPECT_FALSE(x.requires_grad());
}

TEST(GradcheckMatmul, RepeatedStepCreatesNoPrimitive) {
  Variable a(random({2, 4, 16, 8}, 24), true);
  Variable b(random({2, 4, 16, 8}, 25), true);
  const auto step = [&] {
    a.zero_grad();
    b.zero_grad();
    matmul(a, b, false, true).backward(Tensor::full({2, 4, 16, 16}, 1.0f));
  };
  step();
  const int64_t created = PrimitiveCache::get().created();
  step();
  EXPECT_EQ(PrimitiveCache::get().created(), created);
}

TEST(GradcheckMatmul, MatmulInnerMismatchNamesShapes) {
  const std::string message = error_of([] {
    matmul(Variable(Tensor::zeros({2, 3})), Variable(Tensor::zeros({4, 5})));
  });
  EXPECT_NE(message.find("matmul"), std::string::npos) << message;
  EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
  EXPECT_NE(message.find("[4, 5]"), std::string::npos) << message;
}

TEST(GradcheckMatmul, MatmulBatchMismatchNamesShapes) {
  const std::string message = error_of([] {
    matmul(Variable(Tensor::zeros({2, 3, 4})), Variable(Tensor::zeros({3, 4, 5})));
  });
  EXPECT_NE(message.find("matmul"), std::string::npos) << message;
  EXPECT_NE(message.find("[2, 3, 4]"), std::string::npos) << message;
  EXPECT_NE(message.find("[3, 4, 5]"), std::string::npos) << message;
}

TEST(GradcheckMatmul, LinearMismatchNamesShapes) {
  const std::string message = error_of([] {
    linear(Variable(Tensor::zeros({8, 7})), Variable(Tensor::zeros({5, 6})), Variable());
  });
  EXPECT_NE(message.find("linear"), std::string::npos) << message;
  EXPECT_NE(message.find("[8, 7]"), std::string::npos) << message;
  EXPECT_NE(message.find("[5, 6]"), std::string::npos) << message;
}

TEST(GradcheckMatmul, LinearBiasMismatchNamesShapes) {
  const std::string message = error_of([] {
    linear(Variable(Tensor::zeros({8, 6})), Variable(Tensor::zeros({5, 6})), Variable(Tensor::zeros({4})));
  });
  EXPECT_NE(message.find("linear"), std::string::npos) << message;
  EXPECT_NE(message.find("[4]"), std::string::npos) << message;
  EXPECT_NE(message.find("[5, 6]"), std::string::npos) << message;
}

}  // namespace
}  // namespace qat
