// Gradient checks for batch_norm2d and layer_norm against central finite differences (f32, eps 1e-2,
// atol 2e-3, rtol 1e-2; inputs of a few dozen values per normalized group with spread about 1, so the
// second-order error of the differences stays far below atol). Fused-ReLU inputs keep every normalized
// value at least 0.3 away from the kink. Values and gradients are also checked against a reference in
// double (tolerance 1e-4), including blocked-layout inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/ops/conv.h"
#include "autograd/ops/norm.h"
#include "engine/error.h"
#include "engine/random.h"
#include "tests/test_util.h"

namespace qat {
namespace {

constexpr float kEps = 1e-5f;

Tensor uniform(const Shape& shape, float lo, float hi, uint64_t seed) {
  return Generator(seed).uniform_tensor(shape, lo, hi);
}

// Each channel of [N, C, H, W] holds a shuffled ±(0.3 + 0.1·k) ramp times a per-channel spread plus an
// offset: its mean is the offset and no value is within 0.3 spreads of it.
Tensor symmetric_channels(const Shape& shape, uint64_t seed) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  Generator gen(seed);
  const int64_t plane = shape[2] * shape[3];
  const int64_t per_channel = shape[0] * plane;
  for (int64_t c = 0; c < shape[1]; ++c) {
    std::vector<float> values;
    for (int64_t k = 0; k < per_channel / 2; ++k) {
      values.push_back(0.3f + 0.1f * static_cast<float>(k));
      values.push_back(-0.3f - 0.1f * static_cast<float>(k));
    }
    for (int64_t i = per_channel - 1; i > 0; --i) std::swap(values[i], values[gen.below(i + 1)]);
    const float spread = 0.5f + 0.5f * static_cast<float>(c), offset = static_cast<float>(c) - 1.0f;
    for (int64_t i = 0; i < per_channel; ++i)
      p[(i / plane * shape[1] + c) * plane + i % plane] = offset + spread * values[i];
  }
  return t;
}

// Normalization in double over index groups; element i is scaled by w[scale_of[i]] and shifted by
// b[scale_of[i]]. Gradients for seed g (masked by the output sign when relu).
struct Reference {
  std::vector<double> y, dx, dw, db;
};

Reference normalize(const std::vector<float>& x, const std::vector<std::vector<int64_t>>& groups,
                    const std::vector<int64_t>& scale_of, const std::vector<float>& w,
                    const std::vector<float>& b, const std::vector<float>& g, bool relu) {
  Reference r{std::vector<double>(x.size()), std::vector<double>(x.size()), std::vector<double>(w.size()),
              std::vector<double>(w.size())};
  for (const auto& group : groups) {
    const double n = static_cast<double>(group.size());
    double mean = 0, var = 0;
    for (int64_t i : group) mean += x[i] / n;
    for (int64_t i : group) var += (x[i] - mean) * (x[i] - mean) / n;
    const double rstd = 1.0 / std::sqrt(var + kEps);
    double mean_dxhat = 0, mean_dxhat_xhat = 0;
    for (int64_t i : group) {
      const double xhat = (x[i] - mean) * rstd;
      r.y[i] = w[scale_of[i]] * xhat + b[scale_of[i]];
      const double gi = relu && r.y[i] <= 0 ? 0.0 : g[i];
      if (relu) r.y[i] = std::max(r.y[i], 0.0);
      r.dw[scale_of[i]] += gi * xhat;
      r.db[scale_of[i]] += gi;
      mean_dxhat += gi * w[scale_of[i]] / n;
      mean_dxhat_xhat += gi * w[scale_of[i]] * xhat / n;
    }
    for (int64_t i : group) {
      const double xhat = (x[i] - mean) * rstd;
      const double gi = relu && r.y[i] <= 0 ? 0.0 : g[i];
      r.dx[i] = rstd * (gi * w[scale_of[i]] - mean_dxhat - xhat * mean_dxhat_xhat);
    }
  }
  return r;
}

void expect_close(const std::vector<double>& expected, const Tensor& actual, const std::string& what) {
  const std::vector<float> got = actual.to_vector();
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expected[i], 1e-4) << what << " element " << i;
}

// Runs training-mode batch_norm2d on x (any layout) and compares output and gradients with `normalize`.
void expect_batch_norm_matches_reference(const Tensor& x, bool relu) {
  const Shape& s = x.shape();
  const int64_t plane = s[2] * s[3];
  std::vector<std::vector<int64_t>> groups(s[1]);
  std::vector<int64_t> scale_of(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) {
    scale_of[i] = i / plane % s[1];
    groups[scale_of[i]].push_back(i);
  }
  const Variable xv(x, true), w(uniform({s[1]}, 0.5f, 1.5f, 2), true),
      b(uniform({s[1]}, -0.5f, 0.5f, 3), true);
  Tensor mean = Tensor::zeros({s[1]}), var = Tensor::full({s[1]}, 1.0f);
  const Variable y = batch_norm2d(xv, w, b, mean, var, true, 0.1f, kEps, relu);
  const Tensor g = uniform(s, -1.0f, 1.0f, 4);
  y.backward(g);
  const Reference r = normalize(x.to_vector(), groups, scale_of, w.data().to_vector(), b.data().to_vector(),
                                g.to_vector(), relu);
  expect_close(r.y, y.data(), "output");
  expect_close(r.dx, xv.grad(), "input gradient");
  expect_close(r.dw, w.grad(), "weight gradient");
  expect_close(r.db, b.grad(), "bias gradient");
}

using test::error_of;

std::string check_batch_norm(const Tensor& x, bool training, bool relu) {
  const int64_t c = x.dim(1);
  Tensor mean = uniform({c}, -0.2f, 0.2f, 5), var = uniform({c}, 0.8f, 1.2f, 6);
  if (relu && !training) {  // keeps eval outputs at x, away from the kink
    mean.fill(0.0f);
    var.fill(1.0f);
  }
  const Tensor w = relu ? Tensor::full({c}, 1.0f) : uniform({c}, 0.5f, 1.5f, 7);
  const Tensor b = relu ? Tensor::zeros({c}) : uniform({c}, -0.5f, 0.5f, 8);
  return gradcheck(
      [&](const std::vector<Variable>& in) {
        return batch_norm2d(in[0], in[1], in[2], mean, var, training, 0.1f, kEps, relu);
      },
      {x, w, b});
}

TEST(GradcheckNorm, BatchNorm2dTraining) {
  EXPECT_EQ(check_batch_norm(uniform({4, 3, 3, 3}, -2.0f, 2.0f, 1), true, false), "");
}

TEST(GradcheckNorm, BatchNorm2dEval) {
  EXPECT_EQ(check_batch_norm(uniform({2, 3, 3, 3}, -2.0f, 2.0f, 1), false, false), "");
}

TEST(GradcheckNorm, BatchNorm2dFusedReluTraining) {
  EXPECT_EQ(check_batch_norm(symmetric_channels({4, 3, 2, 2}, 1), true, true), "");
}

TEST(GradcheckNorm, BatchNorm2dFusedReluEval) {
  EXPECT_EQ(check_batch_norm(symmetric_channels({2, 3, 2, 2}, 2), false, true), "");
}

TEST(GradcheckNorm, BatchNorm2dMatchesReference) {
  expect_batch_norm_matches_reference(uniform({4, 3, 3, 3}, -2.0f, 2.0f, 9), false);
  expect_batch_norm_matches_reference(uniform({4, 3, 3, 3}, -2.0f, 2.0f, 10), true);
}

// A 16-channel conv output arrives blocked; batch norm keeps that layout and still matches.
TEST(GradcheckNorm, BatchNorm2dBlockedInputMatchesReference) {
  const Variable conv = conv2d(Variable(uniform({2, 8, 5, 5}, -1.0f, 1.0f, 11)),
                               Variable(uniform({16, 8, 3, 3}, -1.0f, 1.0f, 12)), Variable(), {.padding = 1});
  ASSERT_FALSE(conv.data().is_plain());
  expect_batch_norm_matches_reference(conv.data(), false);
  expect_batch_norm_matches_reference(conv.data(), true);
}

TEST(GradcheckNorm, BatchNorm2dUpdatesRunningStats) {
  const Tensor x = uniform({3, 2, 2, 2}, -2.0f, 2.0f, 13);
  Tensor mean = Tensor::full({2}, 0.5f), var = Tensor::full({2}, 2.0f);
  const Variable w(Tensor::full({2}, 1.0f)), b(Tensor::zeros({2}));
  batch_norm2d(Variable(x), w, b, mean, var, true, 0.1f);
  const std::vector<float> v = x.to_vector();
  for (int64_t c = 0; c < 2; ++c) {
    double m = 0, sq = 0;
    for (int64_t i = 0; i < x.numel(); ++i)
      if (i / 4 % 2 == c) m += v[i] / 12.0;
    for (int64_t i = 0; i < x.numel(); ++i)
      if (i / 4 % 2 == c) sq += (v[i] - m) * (v[i] - m);
    EXPECT_NEAR(mean.to_vector()[c], 0.9 * 0.5 + 0.1 * m, 1e-5);
    EXPECT_NEAR(var.to_vector()[c], 0.9 * 2.0 + 0.1 * sq / 11.0, 1e-5);  // unbiased batch variance
  }
}

TEST(GradcheckNorm, BatchNorm2dEvalUsesRunningStats) {
  const Tensor x = uniform({2, 2, 2, 2}, -2.0f, 2.0f, 14);
  Tensor mean = Tensor::from_vector({2}, {0.5f, -1.0f}), var = Tensor::from_vector({2}, {4.0f, 0.25f});
  const Variable w(Tensor::from_vector({2}, {2.0f, -1.0f})), b(Tensor::from_vector({2}, {0.1f, 0.2f}));
  const std::vector<float> y =
      batch_norm2d(Variable(x), w, b, mean, var, false, 0.1f, kEps, true).data().to_vector();
  const std::vector<float> v = x.to_vector();
  const float m[] = {0.5f, -1.0f}, s[] = {4.0f, 0.25f}, g[] = {2.0f, -1.0f}, h[] = {0.1f, 0.2f};
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = i / 4 % 2;
    EXPECT_NEAR(y[i], std::max(0.0f, g[c] * (v[i] - m[c]) / std::sqrt(s[c] + kEps) + h[c]), 1e-5);
  }
  EXPECT_EQ(mean.to_vector(), (std::vector<float>{0.5f, -1.0f}));  // evaluation leaves them alone
}

TEST(GradcheckNorm, BatchNorm2dRejectsBadInput) {
  Tensor mean = Tensor::zeros({3}), var = Tensor::full({3}, 1.0f);
  const Variable w(Tensor::full({3}, 1.0f)), b(Tensor::zeros({3}));
  const std::string rank = error_of([&] {
    batch_norm2d(Variable(Tensor::zeros({4, 3, 5})), w, b, mean, var, true);
  });
  EXPECT_NE(rank.find("batch_norm2d"), std::string::npos) << rank;
  EXPECT_NE(rank.find("[4, 3, 5]"), std::string::npos) << rank;
  const std::string weight = error_of([&] {
    batch_norm2d(Variable(Tensor::zeros({2, 3, 2, 2})), Variable(Tensor::zeros({4})), b, mean, var, true);
  });
  EXPECT_NE(weight.find("batch_norm"), std::string::npos) << weight;
  EXPECT_NE(weight.find("[4]"), std::string::npos) << weight;
  EXPECT_NE(weight.find("[2, 3, 2, 2]"), std::string::npos) << weight;
  Tensor short_var = Tensor::full({2}, 1.0f);
  const std::string stats = error_of([&] {
    batch_norm2d(Variable(Tensor::zeros({2, 3, 2, 2})), w, b, mean, short_var, false);
  });
  EXPECT_NE(stats.find("batch_norm2d"), std::string::npos) << stats;
  EXPECT_NE(stats.find("[2]"), std::string::npos) << stats;
  const std::string single = error_of([&] {
    batch_norm2d(Variable(Tensor::zeros({1, 3, 1, 1})), w, b, mean, var, true);
  });
  EXPECT_NE(single.find("[1, 3, 1, 1]"), std::string::npos) << single;
}

TEST(GradcheckNorm, LayerNorm) {
  const std::vector<Tensor> inputs{uniform({3, 4, 5}, -2.0f, 2.0f, 15), uniform({5}, 0.5f, 1.5f, 16),
                                   uniform({5}, -0.5f, 0.5f, 17)};
  EXPECT_EQ(
      gradcheck([](const std::vector<Variable>& in) { return layer_norm(in[0], in[1], in[2]); }, inputs), "");
}

TEST(GradcheckNorm, LayerNormMatchesReference) {
  const Tensor x = uniform({6, 8}, -2.0f, 2.0f, 18);
  const Variable xv(x, true), w(uniform({8}, 0.5f, 1.5f, 19), true), b(uniform({8}, -0.5f, 0.5f, 20), true);
  const Variable y = layer_norm(xv, w, b);
  const Tensor g = uniform({6, 8}, -1.0f, 1.0f, 21);
  y.backward(g);
  std::vector<std::vector<int64_t>> rows(6);
  std::vector<int64_t> column(48);
  for (int64_t i = 0; i < 48; ++i) {
    rows[i / 8].push_back(i);
    column[i] = i % 8;
  }
  const Reference r = normalize(x.to_vector(), rows, column, w.data().to_vector(), b.data().to_vector(),
                                g.to_vector(), false);
  expect_close(r.y, y.data(), "output");
  expect_close(r.dx, xv.grad(), "input gradient");
  expect_close(r.dw, w.grad(), "weight gradient");
  expect_close(r.db, b.grad(), "bias gradient");
}

TEST(GradcheckNorm, LayerNormRejectsBadWeight) {
  const std::string message = error_of([] {
    layer_norm(Variable(Tensor::zeros({2, 3, 5})), Variable(Tensor::zeros({4})),
               Variable(Tensor::zeros({5})));
  });
  EXPECT_NE(message.find("layer_norm"), std::string::npos) << message;
  EXPECT_NE(message.find("[4]"), std::string::npos) << message;
  EXPECT_NE(message.find("[2, 3, 5]"), std::string::npos) << message;
}

}  // namespace
}  // namespace qat
