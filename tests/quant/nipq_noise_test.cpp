// NIPQ's noise proxy draws ε from the rounding-error histogram of the tensor itself (METHODS.md).
// The noise recovered from the output, ε = (y − x)/Δ over untruncated elements, is compared with the
// actual rounding errors r = ⌊v⌉ − v, v = x·n/α, by a two-sample Kolmogorov–Smirnov test at the 0.1%
// level (D < 1.95·sqrt((n+m)/(n·m))). Settings: α = 3, b = 4 (signed, n = 7), 200k elements.
// The kernel estimates the histogram of a large tensor from at most 65,536 of its elements
// (fake_quant.cpp), so ε is a sample of that estimate: its sampling error enters the bounds through
// 1/n → 1/n + 1/h, h = min(untruncated elements, 65,536) (for h = all elements, the plain test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/random.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

constexpr float kAlpha = 3.0f;
constexpr double kLevels = 7.0, kStep = kAlpha / kLevels;
constexpr int64_t kCount = 200000;

// D = sup |F_a − F_b| of the two empirical distribution functions.
double ks_statistic(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t i = 0, j = 0;
  double d = 0.0;
  while (i < a.size() && j < b.size()) {
    const double v = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= v) ++i;
    while (j < b.size() && b[j] <= v) ++j;
    d = std::max(d, std::abs(static_cast<double>(i) / a.size() - static_cast<double>(j) / b.size()));
  }
  return d;
}

constexpr double kHistogramSample = 65536;

// 1/n of the sampled noise plus that of the histogram estimate it was drawn from.
double noise_inverse_size(size_t n) { return 1.0 / n + 1.0 / std::min<double>(n, kHistogramSample); }

// The 0.1% critical value of D for ε (n) against r (m): 1.95·sqrt(1/n + 1/m), with 1/n as above.
double ks_critical(size_t n, size_t m) { return 1.95 * std::sqrt(noise_inverse_size(n) + 1.0 / m); }

struct Moments {
  double mean = 0, variance = 0;
};

Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double e : v) m.mean += e;
  m.mean /= v.size();
  for (double e : v) m.variance += (e - m.mean) * (e - m.mean);
  m.variance /= v.size() - 1;
  return m;
}

// The sampled noise and the real rounding error of every untruncated element.
struct Errors {
  std::vector<double> noise, rounding;
};

Errors errors_of(const Tensor& x, const Tensor& y) {
  Errors e;
  const float* px = x.data<float>();
  const std::vector<float> py = y.to_vector();
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (std::abs(px[i]) >= kAlpha) continue;
    const double v = px[i] * kLevels / kAlpha;
    e.noise.push_back((py[i] - px[i]) / kStep);
    e.rounding.push_back(std::nearbyint(v) - v);
  }
  return e;
}

Tensor noisy(const Tensor& x, bool histogram, uint64_t key) {
  const Variable a(Tensor::full({1}, test::softplus_inverse(kAlpha))),
      theta(Tensor::full({1}, nipq_theta_for_bits(4, 2, 14)));
  const NipqSettings s{
      .is_signed = true, .noise = true, .histogram = histogram, .bits_min = 2, .bits_max = 14};
  return nipq_quantize(Variable(x), a, theta, s, {.key = key, .jitter = 0.0f, .noise = Tensor()}).data();
}

TEST(NipqNoise, GaussianInputNoiseMatchesRoundingErrorHistogram) {
  const Tensor x = Generator(31).normal_tensor({kCount});
  const Errors e = errors_of(x, noisy(x, true, 1234));
  ASSERT_GT(e.noise.size(), 0.99 * kCount);
  const double d = ks_statistic(e.noise, e.rounding),
               critical = ks_critical(e.noise.size(), e.rounding.size());
  EXPECT_LT(d, critical);
  const Moments m = moments(e.noise);
  const double inverse_size = noise_inverse_size(e.noise.size());
  EXPECT_NEAR(m.mean, 0.0, 5 * std::sqrt(inverse_size / 12));  // 5 standard errors (U(−½, ½))
  EXPECT_NEAR(m.variance, 1.0 / 12, 5 * std::sqrt((1.0 / 80 - 1.0 / 144) * inverse_size));
  EXPECT_LE(*std::max_element(e.noise.begin(), e.noise.end()), 0.5 + 1e-4);
  EXPECT_GE(*std::min_element(e.noise.begin(), e.noise.end()), -0.5 - 1e-4);
  // Sampled, not the element's own rounding error (that would be hard quantization): uncorrelated.
  double cross = 0.0;
  for (size_t i = 0; i < e.noise.size(); ++i) cross += e.noise[i] * e.rounding[i];
  EXPECT_LT(std::abs(cross / e.noise.size()) * 12.0, 0.02);
}

TEST(NipqNoise, HistogramFollowsNonUniformRoundingError) {
  // x clustered at grid points k·Δ (std 0.05Δ): the rounding error is concentrated near 0, not uniform.
  Generator gen(37);
  Tensor x = Tensor::empty({400, kCount / 400});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>((gen.below(13) - 6 + 0.05 * gen.normal()) * kStep);
  for (bool histogram : {true, false}) {
    // Through the quantizer, so that its histogram_noise option is what selects the sampler.
    manual_seed(41);
    NipqQuantizer q(
        {.bits = 4, .is_signed = true, .bits_min = 2, .bits_max = 14, .histogram_noise = histogram});
    q.forward(Variable(x));
    test::parameter(q, "alpha_raw").set_data(Tensor::full({1}, test::softplus_inverse(kAlpha)));
    const Errors e = errors_of(x, q.forward(Variable(x)).data());
    const double d = ks_statistic(e.noise, e.rounding),
                 critical = ks_critical(e.noise.size(), e.rounding.size());
    if (histogram) {
      EXPECT_LT(d, critical) << "histogram noise";
      EXPECT_NEAR(moments(e.noise).variance, moments(e.rounding).variance, 2e-4);
    } else {
      EXPECT_GT(d, critical) << "uniform noise should not match a concentrated rounding error";
      EXPECT_NEAR(moments(e.noise).variance, 1.0 / 12, 1e-3);
    }
  }
}

TEST(NipqNoise, DrawsDependOnlyOnTheKey) {
  const Tensor x = Generator(43).normal_tensor({1000});
  const std::vector<float> a = noisy(x, true, 7).to_vector(), b = noisy(x, true, 7).to_vector(),
                           c = noisy(x, true, 8).to_vector();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(NipqNoise, HistogramRepresentsEveryPositionOfTheTensor) {
  // A [1024, 256] activation whose every fourth column sits near the grid (std 0.03Δ; a border, say): the
  // tensor's rounding error is 1/4 concentrated near 0 and 3/4 uniform. The histogram must describe the whole
  // tensor, not a sub-lattice of it (as a fixed power-of-two sampling stride would).
  Generator gen(47);
  Tensor x = Tensor::empty({1024, 256});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>(
        (gen.below(13) - 6 + (i % 4 ? gen.uniform(-0.5f, 0.5f) : 0.03f * gen.normal())) * kStep);
  const Errors e = errors_of(x, noisy(x, true, 99));
  const Moments noise = moments(e.noise), rounding = moments(e.rounding);
  EXPECT_NEAR(noise.variance, rounding.variance, 2e-3);
  EXPECT_LT(ks_statistic(e.noise, e.rounding), 0.02);
}

TEST(NipqNoise, BackwardUsesTheForwardsNoise) {
  // The backward's noise sum Σ g·ε must be the forward's, with ε = (y − x)/Δ from a plain loop over the
  // output. Per-channel truncations over 3 × 5000 elements, so that the forward's runs straddle channels
  // while the backward's follow them; half the elements truncated.
  const std::vector<float> alpha{0.7f, 1.9f, 3.1f};
  const Shape shape{3, 5000};
  Generator gen(51);
  const Variable x(gen.normal_tensor(shape, 0.0f, 2.0f), true);
  std::vector<float> raw;
  for (float a : alpha) raw.push_back(test::softplus_inverse(a));
  const Variable a(Tensor::from_vector({3}, raw), true),
      theta(Tensor::full({1}, nipq_theta_for_bits(4, 2, 14)));
  const NipqSettings s{.is_signed = true, .noise = true, .histogram = true, .bits_min = 2, .bits_max = 14};
  const Tensor g = gen.normal_tensor(shape);
  const Variable y = nipq_quantize(x, a, theta, s, {.key = 77, .jitter = 0.0f, .noise = Tensor()});
  y.backward(g);
  const std::vector<float> px = x.data().to_vector(), py = y.data().to_vector(), pg = g.to_vector(),
                           dx = x.grad().to_vector(), da = a.grad().to_vector();
  for (int64_t c = 0; c < 3; ++c) {
    double over = 0, under = 0, noise = 0;
    for (int64_t i = c * 5000; i < (c + 1) * 5000; ++i) {
      const bool above = px[i] >= alpha[c], below = px[i] <= -alpha[c];
      over += above ? pg[i] : 0.0;
      under += below ? pg[i] : 0.0;
      noise += above || below ? 0.0 : pg[i] * (py[i] - px[i]) / (alpha[c] / kLevels);
      EXPECT_EQ(dx[i], above || below ? 0.0f : pg[i]) << i;
    }
    // ∂L/∂a = (Σ_over g − Σ_under g + Σ g·ε/n)·sigmoid(a).
    const double expected = (over - under + noise / kLevels) / (1.0 + std::exp(-raw[c]));
    EXPECT_NEAR(da[c], expected, 1e-3 * std::abs(expected) + 1e-3) << "channel " << c;
  }
}

TEST(NipqNoise, AllTruncatedFallsBackWithoutNoise) {
  // No element inside (−α, α): the histogram is empty; every output is the truncation ±α.
  Tensor x = Tensor::empty({64});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = (i % 2 ? 1.0f : -1.0f) * (kAlpha + 0.5f + i);
  const std::vector<float> y = noisy(x, true, 3).to_vector();
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(y[i], i % 2 ? kAlpha : -kAlpha, 1e-5) << i;
}

}  // namespace
}  // namespace qat
