// The NIPQ paper's toy (its Fig. 3): fit one latent scalar w through a 2-bit quantizer whose grid is
// {…, 0, 1} (α = 1, resp. LSQ step 1) to the target 0.35, between the grid points 0 and 1, by plain SGD
// on (q(w) − t)². With straight-through rounding the gradient sign flips whenever w crosses the rounding
// threshold 0.5, so w keeps oscillating around 0.5; with the noise proxy the expected gradient is
// 2(w − t), so w settles near t. The noise is uniform here: the rounding-error histogram of a one-element
// tensor has a single bin, so histogram noise would reproduce that element's own rounding (see the last
// test).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/random.h"
#include "quant/quantizers/lsq_quantizer.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

constexpr float kTarget = 0.35f, kThreshold = 0.5f, kRate = 0.02f;
constexpr int kSteps = 300, kTail = 100;

struct Tail {
  int crossings = 0;  // sign changes of w − 0.5 over the last kTail steps
  double mean = 0, stddev = 0;
};

// Runs SGD on w through `q` (initialized on w = 0.1, then its scalar set by `configure`) and summarizes the
// tail.
Tail fit(Quantizer& q, const std::function<void(Quantizer&)>& configure) {
  manual_seed(2023);
  Variable w(Tensor::full({1}, 0.1f), true);
  q.forward(w);
  configure(q);
  for (Variable& p : q.parameters()) p.set_requires_grad(false);  // only w is trained
  std::vector<float> trace;
  for (int step = 0; step < kSteps; ++step) {
    w.zero_grad();
    const Variable y = q.forward(w);
    y.backward(Tensor::full({1}, 2.0f * (y.data().item() - kTarget)));
    w.set_data(Tensor::full({1}, w.data().item() - kRate * w.grad().item()));
    trace.push_back(w.data().item());
  }
  Tail t;
  for (int i = kSteps - kTail; i < kSteps; ++i) {
    t.crossings += (trace[i] - kThreshold) * (trace[i - 1] - kThreshold) < 0;
    t.mean += trace[i] / kTail;
  }
  for (int i = kSteps - kTail; i < kSteps; ++i) t.stddev += (trace[i] - t.mean) * (trace[i] - t.mean) / kTail;
  t.stddev = std::sqrt(t.stddev);
  return t;
}

void set_alpha_one(Quantizer& q) {
  test::parameter(q, "alpha_raw").set_data(Tensor::full({1}, test::softplus_inverse(1.0)));
}

NipqQuantizer two_bit_nipq(bool histogram) {
  return NipqQuantizer({.bits = 2, .is_signed = true, .histogram_noise = histogram});
}

TEST(QuantizerToy, SteOscillatesAcrossTheRoundingThreshold) {
  LsqQuantizer lsq({.bits = 2, .is_signed = true}, false);  // grid {−2, −1, 0, 1}·s
  const Tail l = fit(lsq, [](Quantizer& q) { test::parameter(q, "step").set_data(Tensor::full({1}, 1.0f)); });
  NipqQuantizer nipq = two_bit_nipq(false);  // grid {−α, 0, α}
  nipq.set_phase(QuantPhase::ste);
  const Tail n = fit(nipq, set_alpha_one);
  for (const Tail& t : {l, n}) {
    EXPECT_GT(t.crossings, 40);
    EXPECT_NEAR(t.mean, kThreshold, 0.05);  // stuck at the threshold, not at the target
  }
}

TEST(QuantizerToy, NoiseProxySettlesNearTheTarget) {
  NipqQuantizer nipq = two_bit_nipq(false);
  const Tail t = fit(nipq, set_alpha_one);
  EXPECT_LE(t.crossings, 4);
  EXPECT_NEAR(t.mean, kTarget, 0.08);
  EXPECT_LT(t.stddev, 0.08);  // SGD with U(−½, ½)·Δ noise: stationary std sqrt(lr/12/(1 − lr)) ≈ 0.04
}

TEST(QuantizerToy, HistogramNoiseOfOneElementIsItsRoundingError) {
  NipqQuantizer q = two_bit_nipq(true);
  const Variable w(Tensor::full({1}, 0.3f), true);
  manual_seed(1);
  q.forward(w);
  set_alpha_one(q);
  for (int i = 0; i < 20; ++i) EXPECT_NEAR(q.forward(w).data().item(), 0.0f, 1.0f / 256 + 1e-6);
}

}  // namespace
}  // namespace qat
