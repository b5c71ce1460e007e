// Gradient checks for conv2d against central finite differences (f32, eps 1e-2, atol 2e-3, rtol 1e-2:
// the op is linear in each input, so differences are exact up to f32 rounding), value checks of the
// forward and both gradients against a direct loop in double (tolerance 1e-4 relative to the largest
// value), bad-input errors, and a repeated conv+bn+relu+pool step that must build no new primitive.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/ops/activation.h"
#include "autograd/ops/conv.h"
#include "autograd/ops/norm.h"
#include "autograd/ops/pool.h"
#include "engine/error.h"
#include "engine/primitive_cache.h"
#include "engine/random.h"
#include "tests/test_util.h"

namespace qat {
namespace {

Tensor random(const Shape& shape, uint64_t seed) {
  return Generator(seed).uniform_tensor(shape, -1.0f, 1.0f);
}

// Calls visit(x_index, w_index, y_index) for every multiply-add of a direct convolution.
void for_each_tap(const Shape& x, const Shape& w, const Conv2dParams& p,
                  const std::function<void(int64_t, int64_t, int64_t)>& visit) {
  const Shape y = kernels::conv2d_output_shape(x, w, p);
  const int64_t out_per_group = w[0] / p.groups;
  for (int64_t n = 0; n < x[0]; ++n)
    for (int64_t o = 0; o < w[0]; ++o)
      for (int64_t oh = 0; oh < y[2]; ++oh)
        for (int64_t ow = 0; ow < y[3]; ++ow)
          for (int64_t c = 0; c < w[1]; ++c)
            for (int64_t kh = 0; kh < w[2]; ++kh)
              for (int64_t kw = 0; kw < w[3]; ++kw) {
                const int64_t ih = oh * p.stride - p.padding + kh * p.dilation;
                const int64_t iw = ow * p.stride - p.padding + kw * p.dilation;
                if (ih < 0 || ih >= x[2] || iw < 0 || iw >= x[3]) continue;
                const int64_t ic = o / out_per_group * w[1] + c;
                visit(((n * x[1] + ic) * x[2] + ih) * x[3] + iw, ((o * w[1] + c) * w[2] + kh) * w[3] + kw,
                      ((n * y[1] + o) * y[2] + oh) * y[3] + ow);
              }
}

void expect_close(const std::vector<double>& expected, const Tensor& actual, const std::string& what) {
  const std::vector<float> got = actual.to_vector();
  ASSERT_EQ(got.size(), expected.size()) << what;
  double scale = 1.0;
  for (double v : expected) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], expected[i], 1e-4 * scale) << what << " element " << i;
}

// Forward and both gradients of conv2d against the direct loop, for seed gradient g.
void expect_matches_direct_loop(const Shape& x_shape, const Shape& w_shape, const Conv2dParams& p) {
  const Tensor xt = random(x_shape, 1);
  const Tensor wt = random(w_shape, 2);
  const Tensor bt = random({w_shape[0]}, 3);
  const Variable x(xt, true), w(wt, true), b(bt, true);
  const Variable y = conv2d(x, w, b, p);
  const Tensor g = random(y.shape(), 4);
  y.backward(g);

  const std::vector<float> xv = xt.to_vector(), wv = wt.to_vector(), bv = bt.to_vector(), gv = g.to_vector();
  std::vector<double> y_ref(gv.size()), dx(xv.size()), dw(wv.size()), db(bv.size());
  const int64_t plane = y.dim(2) * y.dim(3);
  for (size_t i = 0; i < y_ref.size(); ++i) {
    const int64_t o = static_cast<int64_t>(i) / plane % w_shape[0];
    y_ref[i] = bv[o];
    db[o] += gv[i];
  }
  for_each_tap(x_shape, w_shape, p, [&](int64_t xi, int64_t wi, int64_t yi) {
    y_ref[yi] += static_cast<double>(xv[xi]) * wv[wi];
    dx[xi] += static_cast<double>(gv[yi]) * wv[wi];
    dw[wi] += static_cast<double>(gv[yi]) * xv[xi];
  });
  expect_close(y_ref, y.data(), "output");
  expect_close(dx, x.grad(), "input gradient");
  expect_close(dw, w.grad(), "weight gradient");
  expect_close(db, b.grad(), "bias gradient");
}

std::string check(const Shape& x, const Shape& w, const Conv2dParams& p, bool bias) {
  std::vector<Tensor> inputs{random(x, 5), random(w, 6)};
  if (bias) inputs.push_back(random({w[0]}, 7));
  return gradcheck(
      [p, bias](const std::vector<Variable>& in) {
        return conv2d(in[0], in[1], bias ? in[2] : Variable(), p);
      },
      inputs);
}

using test::error_of;

TEST(GradcheckConv, Conv2d) { EXPECT_EQ(check({2, 3, 5, 5}, {4, 3, 3, 3}, {}, true), ""); }
TEST(GradcheckConv, Conv2dNoBias) { EXPECT_EQ(check({2, 3, 5, 5}, {4, 3, 3, 3}, {}, false), ""); }
TEST(GradcheckConv, Conv2dStride2Padding) {
  EXPECT_EQ(check({2, 3, 7, 7}, {4, 3, 3, 3}, {.stride = 2, .padding = 1}, true), "");
}
TEST(GradcheckConv, Conv2dDilation2) {
  EXPECT_EQ(check({1, 3, 7, 7}, {2, 3, 3, 3}, {.padding = 1, .dilation = 2}, false), "");
}
TEST(GradcheckConv, Conv2dGroups2) {
  EXPECT_EQ(check({2, 4, 5, 5}, {6, 2, 3, 3}, {.padding = 1, .groups = 2}, true), "");
}
TEST(GradcheckConv, Conv2dDepthwise) {
  EXPECT_EQ(check({2, 4, 6, 6}, {4, 1, 3, 3}, {.stride = 2, .padding = 1, .groups = 4}, false), "");
}

TEST(GradcheckConv, Conv2dMatchesDirectLoop) {
  expect_matches_direct_loop({2, 3, 7, 7}, {5, 3, 3, 3}, {.stride = 2, .padding = 1});
  expect_matches_direct_loop({1, 4, 9, 8}, {4, 4, 3, 2}, {.padding = 2, .dilation = 2});
  expect_matches_direct_loop({2, 6, 6, 6}, {4, 3, 1, 1}, {.groups = 2});
}

// Channel counts at which oneDNN picks blocked layouts for src, weights and dst.
TEST(GradcheckConv, Conv2dBlockedLayoutsMatchDirectLoop) {
  expect_matches_direct_loop({2, 16, 8, 8}, {32, 16, 3, 3}, {.stride = 2, .padding = 1});
  expect_matches_direct_loop({2, 32, 6, 6}, {32, 32, 3, 3}, {.padding = 1});
  expect_matches_direct_loop({2, 32, 6, 6}, {32, 1, 3, 3}, {.padding = 1, .groups = 32});
}

TEST(GradcheckConv, Conv2dRejectsChannelMismatch) {
  const Variable x(Tensor::zeros({8, 3, 28, 28})), w(Tensor::zeros({16, 4, 3, 3}));
  const std::string message = error_of([&] { conv2d(x, w, Variable()); });
  EXPECT_NE(message.find("conv2d"), std::string::npos) << message;
  EXPECT_NE(message.find("[8, 3, 28, 28]"), std::string::npos) << message;
  EXPECT_NE(message.find("[16, 4, 3, 3]"), std::string::npos) << message;
}

TEST(GradcheckConv, Conv2dRejectsBadGroupsBiasAndKernel) {
  const Variable x(Tensor::zeros({2, 4, 5, 5}));
  const std::string groups = error_of([&] {
    conv2d(x, Variable(Tensor::zeros({6, 2, 3, 3})), Variable(), {.groups = 4});
  });
  EXPECT_NE(groups.find("conv2d"), std::string::npos) << groups;
  EXPECT_NE(groups.find("[6, 2, 3, 3]"), std::string::npos) << groups;
  const std::string bias = error_of([&] {
    conv2d(x, Variable(Tensor::zeros({6, 4, 3, 3})), Variable(Tensor::zeros({5})));
  });
  EXPECT_NE(bias.find("conv2d"), std::string::npos) << bias;
  EXPECT_NE(bias.find("[5]"), std::string::npos) << bias;
  const std::string kernel = error_of([&] { conv2d(x, Variable(Tensor::zeros({6, 4, 7, 7})), Variable()); });
  EXPECT_NE(kernel.find("conv2d"), std::string::npos) << kernel;
  EXPECT_NE(kernel.find("[2, 4, 5, 5]"), std::string::npos) << kernel;
  const std::string rank = error_of([&] { conv2d(Variable(Tensor::zeros({4, 5, 5})), x, Variable()); });
  EXPECT_NE(rank.find("[4, 5, 5]"), std::string::npos) << rank;
}

// One conv -> batch norm (+ fused ReLU) -> ReLU -> max pool -> conv -> global pool step, forward and
// backward.
void step(const Variable& x, const Variable& w1, const Variable& w2, const Variable& gamma,
          const Variable& beta, Tensor& mean, Tensor& var) {
  Variable h = conv2d(x, w1, Variable(), {.padding = 1});
  h = batch_norm2d(h, gamma, beta, mean, var, true, 0.1f, 1e-5f, true);
  h = max_pool2d(relu(h), 2, 2);
  h = global_avg_pool2d(conv2d(h, w2, Variable(), {.stride = 2, .padding = 1}));
  h.backward(Tensor::full(h.shape(), 1.0f));
  for (Variable leaf : {x, w1, w2, gamma, beta}) leaf.zero_grad();
}

TEST(GradcheckConv, RepeatedStepCreatesNoPrimitives) {
  const Variable x(random({4, 3, 16, 16}, 1), true);
  const Variable w1(random({16, 3, 3, 3}, 2), true), w2(random({32, 16, 3, 3}, 3), true);
  const Variable gamma(Tensor::full({16}, 1.0f), true), beta(Tensor::zeros({16}), true);
  Tensor mean = Tensor::zeros({16}), var = Tensor::full({16}, 1.0f);
  step(x, w1, w2, gamma, beta, mean, var);
  const int64_t created = PrimitiveCache::get().created();
  step(x, w1, w2, gamma, beta, mean, var);
  EXPECT_EQ(PrimitiveCache::get().created(), created);
}

}  // namespace
}  // namespace qat
