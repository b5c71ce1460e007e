// Finite-difference checks of the quantizers' gradients. Inputs sit at least 0.1 (in code units) away
// from rounding and clipping boundaries and the steps are small, so the real outputs are linear in the
// scalars over the differencing interval.
// Rounding is straight-through in LSQ and PACT, so their scalar gradients are *not* the real output's
// slope; the tests check the exact relation between the two instead:
// - LSQ: the real slope in s is ⌊v⌉ inside and qmin/qmax when clipped, STE's is ⌊v⌉ − v inside, and the
//   tape scales it by g = 1/sqrt(numel·Qp): tape = g·(fd − Σ_inside g_i·v_i) (= g·fd when all are clipped);
// - PACT: the real slope in α is ⌊v⌉/n inside, PACT's gradient only the clip's: tape = fd − Σ_inside g·⌊v⌉/n.
// NIPQ's noise proxy (with given ε) is smooth in x and α, so it gets plain gradcheck; its bit-width is
// rounded straight through, so θ's gradient is checked through Δ = α/n(b): ∂L/∂b = −∂L/∂α·α·n'(b)/n.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numbers>

#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "engine/random.h"
#include "quant/quantizers/lsq_quantizer.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "quant/quantizers/pact_quantizer.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

// Central difference of loss(value) with a relative step; `value` is the unperturbed point.
double central_difference(const std::function<double(float)>& loss, float value, float relative) {
  const float plus = value * (1.0f + relative), minus = value * (1.0f - relative);
  return (loss(plus) - loss(minus)) / (static_cast<double>(plus) - minus);
}

// A code-unit value for one element: clipped (1..3 beyond the range) or k + δ, |δ| ≤ 0.3, k inside.
float code_value(Generator& gen, IntegerRange r, bool clip) {
  if (clip) return gen.uniform() < 0.5f ? r.qmax + gen.uniform(1.0f, 3.0f) : r.qmin - gen.uniform(1.0f, 3.0f);
  return static_cast<float>(r.qmin + 1 + gen.below(static_cast<int64_t>(r.qmax - r.qmin) - 1)) +
         gen.uniform(-0.3f, 0.3f);
}

void check_lsq_step(const QuantizerOptions& options, const Shape& shape, bool clipped_only, uint64_t seed) {
  const int64_t channels = options.per_channel ? shape[0] : 1, inner = numel(shape) / channels;
  const IntegerRange r = integer_range(options.bits, *options.is_signed);
  Generator gen(seed);
  std::vector<float> steps;
  for (int64_t c = 0; c < channels; ++c) steps.push_back(gen.uniform(0.05f, 0.2f));
  Tensor x = Tensor::empty(shape);
  const Tensor g = gen.normal_tensor(shape);
  std::vector<double> inside(channels);  // Σ_inside g·v per channel
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < inner; ++i) {
      const bool clip = clipped_only || i % 4 == 0;
      const float v = code_value(gen, r, clip);
      x.data<float>()[c * inner + i] = v * steps[c];
      if (!clip) inside[c] += static_cast<double>(g.data<float>()[c * inner + i]) * v;
    }
  LsqQuantizer q(options, false);
  const Variable xv(x, true);
  q.forward(xv);
  Variable step = test::parameter(q, "step");
  step.set_data(Tensor::from_vector({channels}, steps));
  q.forward(xv).backward(g);
  const std::vector<float> tape = step.grad().to_vector();
  const double scale = 1.0 / std::sqrt(static_cast<double>(inner) * r.qmax);
  for (int64_t c = 0; c < channels; ++c) {
    const double fd = central_difference(
        [&](float s) {
          std::vector<float> perturbed = steps;
          perturbed[c] = s;
          step.set_data(Tensor::from_vector({channels}, perturbed));
          NoGrad no_grad;
          return test::dot(q.forward(xv).data(), g);
        },
        steps[c], 1e-2f);
    const double expected = scale * (fd - inside[c]),
                 tol = 1e-3 * scale * (std::abs(fd) + std::abs(inside[c])) + 1e-6;
    EXPECT_NEAR(tape[c], expected, tol) << "channel " << c << (clipped_only ? " (all clipped)" : " (mixed)");
    // The STE correction must matter, or the mixed case would not tell STE from the real slope.
    if (!clipped_only) {
      EXPECT_GT(scale * std::abs(inside[c]), 20 * tol) << "channel " << c;
    }
  }
}

TEST(QuantizerGradcheck, LsqPerChannelStepIsScaledFiniteDifference) {
  const QuantizerOptions options{.bits = 4, .per_channel = true, .channels = 3, .is_signed = true};
  check_lsq_step(options, {3, 48}, false, 5);
  check_lsq_step(options, {3, 48}, true, 5);
}

TEST(QuantizerGradcheck, LsqActivationStepIsScaledFiniteDifference) {
  const QuantizerOptions options{.target = QuantTarget::activation, .bits = 3, .is_signed = false};
  check_lsq_step(options, {2, 40}, false, 6);
  check_lsq_step(options, {2, 40}, true, 6);
}

void check_pact_alpha(bool is_signed, bool clipped_only) {
  const float alpha = 2.0f;
  const int bits = 4;
  const float n = is_signed ? 7.0f : 15.0f;
  const IntegerRange r{is_signed ? -n : 0.0f, n};
  Generator gen(9);
  Tensor x = Tensor::empty({5, 24});
  const Tensor g = gen.normal_tensor({5, 24});
  double inside = 0.0;  // Σ_inside g·⌊v⌉/n
  for (int64_t i = 0; i < x.numel(); ++i) {
    const bool clip = clipped_only || i % 3 == 0;
    const float v = code_value(gen, r, clip);
    x.data<float>()[i] = v * alpha / n;
    if (!clip) inside += static_cast<double>(g.data<float>()[i]) * std::nearbyint(v) / n;
  }
  PactQuantizer q({.target = QuantTarget::activation, .bits = bits, .is_signed = is_signed});
  const Variable xv(x, true);
  q.forward(xv);
  Variable a = test::parameter(q, "alpha");
  a.set_data(Tensor::full({1}, alpha));
  q.forward(xv).backward(g);
  const double fd = central_difference(
      [&](float value) {
        a.set_data(Tensor::full({1}, value));
        NoGrad no_grad;
        return test::dot(q.forward(xv).data(), g);
      },
      alpha, 5e-3f);
  const double tol = 1e-3 * (std::abs(fd) + std::abs(inside)) + 1e-5;
  EXPECT_NEAR(a.grad().item(), fd - inside, tol)
      << (is_signed ? "signed" : "unsigned") << (clipped_only ? ", all clipped" : ", mixed");
  if (!clipped_only) {
    EXPECT_GT(std::abs(inside), 20 * tol);
  }
}

TEST(QuantizerGradcheck, PactAlphaIsTheClipGradient) {
  for (bool is_signed : {false, true})
    for (bool clipped_only : {false, true}) check_pact_alpha(is_signed, clipped_only);
}

// x for the noise proxy: every fourth element truncated (0.1..1 beyond ±α), the others inside with a 0.1
// margin.
Tensor noise_input(const Shape& shape, const std::vector<float>& alpha, bool is_signed, bool all_inside,
                   uint64_t seed) {
  Generator gen(seed);
  Tensor x = Tensor::empty(shape);
  const int64_t inner = x.numel() / static_cast<int64_t>(alpha.size());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float a = alpha[i / inner], lo = is_signed ? -a : 0.0f;
    const bool truncated = !all_inside && i % 4 == 0;
    x.data<float>()[i] =
        truncated ? (gen.uniform() < 0.5f ? a + gen.uniform(0.1f, 1.0f) : lo - gen.uniform(0.1f, 1.0f))
                  : gen.uniform(lo + 0.1f, a - 0.1f);
  }
  return x;
}

struct NoiseCase {
  bool is_signed;
  std::vector<float> alpha;  // one per channel, or one for the tensor
  Shape shape;
  bool all_inside = false;  // isolates the noise term ε/n of α's gradient
};

NipqSettings noise_settings(bool is_signed) {
  return {.is_signed = is_signed, .noise = true, .histogram = true, .bits_min = 2, .bits_max = 14};
}

TEST(QuantizerGradcheck, NipqNoiseProxyToInputAndTruncation) {
  for (const NoiseCase& nc : {NoiseCase{true, {0.8f, 1.5f, 2.5f}, {3, 32}}, NoiseCase{false, {3.0f}, {4, 24}},
                              NoiseCase{true, {1.2f}, {2, 40}, true}}) {
    Generator gen(13);
    const Tensor eps = gen.uniform_tensor(nc.shape, -0.5f, 0.5f);
    std::vector<float> a_raw;
    for (float a : nc.alpha) a_raw.push_back(test::softplus_inverse(a));
    const Tensor x = noise_input(nc.shape, nc.alpha, nc.is_signed, nc.all_inside, 17);
    const Tensor theta = Tensor::full({1}, nipq_theta_for_bits(4, 2, 14));
    const NipqDraws draws{.key = 0, .jitter = 0.2f, .noise = eps};
    const auto f = [&](const std::vector<Variable>& in) {
      return nipq_quantize(in[0], in[1], in[2], noise_settings(nc.is_signed), draws);
    };
    // θ (input 2) reaches the output only through the rounded bit-width: checked below.
    const Tensor a = Tensor::from_vector({static_cast<int64_t>(a_raw.size())}, a_raw);
    EXPECT_EQ(gradcheck(f, {x, a, theta}, {.eps = 1e-2, .skip = {2}}), "")
        << (nc.is_signed ? "signed" : "unsigned");
  }
}

TEST(QuantizerGradcheck, NipqNoiseProxyBitWidthThroughStep) {
  for (bool is_signed : {true, false}) {
    const float alpha = 1.5f, u = 0.2f;
    const float theta0 = nipq_theta_for_bits(4, 2, 14);  // b = 4 + 1e-5, plus u: rounds to 4
    Generator gen(23);
    const Shape shape{4, 25};
    const Tensor eps = gen.uniform_tensor(shape, -0.5f, 0.5f), g = gen.normal_tensor(shape);
    const Variable x(noise_input(shape, {alpha}, is_signed, true, 29), true);
    const Variable a(Tensor::full({1}, test::softplus_inverse(alpha)), true),
        theta(Tensor::full({1}, theta0), true);
    const NipqDraws draws{.key = 0, .jitter = u, .noise = eps};
    nipq_quantize(x, a, theta, noise_settings(is_signed), draws).backward(g);
    // ∂L/∂α by finite differences of the raw truncation, divided by dα/da = sigmoid(a).
    const double fd_a = central_difference(
        [&](float raw) {
          NoGrad no_grad;
          const Variable perturbed(Tensor::full({1}, raw));
          return test::dot(nipq_quantize(x, perturbed, theta, noise_settings(is_signed), draws).data(), g);
        },
        a.data().item(), 1e-2f);
    const double sigma_a = 1.0 / (1.0 + std::exp(-a.data().item()));
    const double d_alpha = fd_a / sigma_a;
    const double top = is_signed ? 8.0 : 16.0, n = top - 1.0;  // b = 4
    const double d_bits = -d_alpha * alpha * std::numbers::ln2 * top / n;
    const double sigma = 1.0 / (1.0 + std::exp(-static_cast<double>(theta0)));
    const double expected = d_bits * 12.0 * sigma * (1.0 - sigma);
    EXPECT_NEAR(a.grad().item(), fd_a, 1e-3 * std::abs(fd_a) + 1e-5);
    EXPECT_NEAR(theta.grad().item(), expected, 1e-3 * std::abs(expected) + 1e-6)
        << (is_signed ? "signed" : "unsigned");
    EXPECT_NE(expected, 0.0);
  }
}

}  // namespace
}  // namespace qat
