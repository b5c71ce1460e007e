// Bit-width mapping, initialization from the first batch, and the training phases (METHODS.md):
// θ ↔ bits, NIPQ's faithful and calibrated truncation, LSQ's step, activation signedness, freezing the
// bit-width, and the final (STE) phase.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/random.h"
#include "quant/quant_method.h"
#include "quant/quantizers/lsq_quantizer.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

double softplus(double v) { return std::log1p(std::exp(v)); }

// Reference per-channel statistic of a plain [channels, inner] tensor.
template <typename Reduce>
std::vector<double> per_row(const Tensor& x, double init, Reduce reduce) {
  const int64_t rows = x.dim(0), inner = x.numel() / rows;
  std::vector<double> out(rows, init);
  for (int64_t c = 0; c < rows; ++c)
    for (int64_t i = 0; i < inner; ++i) out[c] = reduce(out[c], x.data<float>()[c * inner + i]);
  return out;
}

Tensor relu_of(Tensor x) {
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::max(x.data<float>()[i], 0.0f);
  return x;
}

TEST(QuantizerInit, NipqThetaGivesExactBits) {
  for (float bits_max : {8.0f, 14.0f})
    for (int bits = 2; bits <= static_cast<int>(bits_max); ++bits) {
      NipqQuantizer q({.bits = bits, .is_signed = true, .bits_min = 2, .bits_max = bits_max});
      const float theta = test::parameter(q, "theta").data().item();
      EXPECT_EQ(theta, nipq_theta_for_bits(static_cast<float>(bits), 2, bits_max));
      // The continuous width is within 1e-4 of the integer (1e-5 inside the range), so rounding is safe.
      EXPECT_NEAR(2.0 + (bits_max - 2.0) / (1.0 + std::exp(-theta)), bits, 1e-4)
          << bits << " of 2.." << bits_max;
      EXPECT_EQ(q.bits(), bits) << bits << " of 2.." << bits_max;
      EXPECT_EQ(q.bits_variable().data().item(), static_cast<float>(bits)) << bits << " of 2.." << bits_max;
      q.forward(Variable(Generator(bits).normal_tensor({4, 8})));
      EXPECT_EQ(q.grid().bits, bits);
      EXPECT_EQ(q.grid().qmax, (1 << (bits - 1)) - 1);  // signed NIPQ grid −n…n
      EXPECT_EQ(q.grid().qmin, -q.grid().qmax);
    }
  EXPECT_THROW(nipq_theta_for_bits(9, 2, 8), Error);
  EXPECT_THROW(nipq_theta_for_bits(1, 2, 8), Error);
}

TEST(QuantizerInit, GridConventionsAreExplicit) {
  const auto lsq = make_quantizer("lsq", {.bits = 4, .is_signed = std::nullopt});
  lsq->forward(Variable(Generator(1).normal_tensor({16})));
  EXPECT_EQ(lsq->grid().qmin, -8);  // LSQ: full two's complement
  EXPECT_EQ(lsq->grid().qmax, 7);
  const auto act =
      make_quantizer("nipq", {.target = QuantTarget::activation, .bits = 4, .is_signed = std::nullopt});
  act->forward(Variable(relu_of(Generator(2).normal_tensor({16}))));
  EXPECT_EQ(act->grid().qmin, 0);  // unsigned 0…2^b − 1
  EXPECT_EQ(act->grid().qmax, 15);
}

TEST(QuantizerInit, NipqFaithfulTruncationUsesRawValues) {
  const Tensor w = Generator(3).normal_tensor({5, 12}, 0.0f, 0.3f);
  const std::vector<double> row_max =
      per_row(w, -INFINITY, [](double a, float v) { return std::max(a, double(v)); });
  NipqQuantizer per_channel({.per_channel = true, .channels = 5, .is_signed = std::nullopt});
  per_channel.forward(Variable(w));
  const std::vector<float> raw = test::parameter(per_channel, "alpha_raw").data().to_vector();
  ASSERT_EQ(raw.size(), 5u);
  for (int c = 0; c < 5; ++c) EXPECT_FLOAT_EQ(raw[c], row_max[c]) << "channel " << c;
  NipqQuantizer per_tensor({.bits = 4, .is_signed = std::nullopt});
  per_tensor.forward(Variable(w));
  EXPECT_FLOAT_EQ(test::parameter(per_tensor, "alpha_raw").data().item(),
                  *std::max_element(row_max.begin(), row_max.end()));
  for (bool negative : {false, true}) {
    Tensor x = Generator(4).normal_tensor({64});
    if (!negative) x = relu_of(x);
    NipqQuantizer act({.target = QuantTarget::activation, .is_signed = std::nullopt});
    act.forward(Variable(x));
    EXPECT_EQ(act.is_signed(), negative);
    EXPECT_EQ(test::parameter(act, "alpha_raw").data().item(), negative ? 3.0f : 6.0f);
  }
}

// Squared error of NIPQ's grid ⌊clip(x/α, lo, 1)·n⌉·α/n over `values`.
double grid_error(const std::vector<float>& values, double alpha, double n, bool is_signed) {
  double error = 0;
  for (float v : values) {
    const double q = std::nearbyint(std::clamp(v / alpha, is_signed ? -1.0 : 0.0, 1.0) * n) * alpha / n;
    error += (q - v) * (q - v);
  }
  return error;
}

TEST(QuantizerInit, NipqCalibratedTruncationMinimizesTheGridError) {
  for (int bits : {2, 4}) {
    const Tensor w = Generator(5).normal_tensor({4, 200}, 0.0f, 0.3f);
    const std::vector<double> max_abs =
        per_row(w, 0.0, [](double a, float v) { return std::max(a, std::abs(double(v))); });
    NipqQuantizer q({.bits = bits,
                     .per_channel = true,
                     .channels = 4,
                     .is_signed = std::nullopt,
                     .calibrated_init = true});
    q.forward(Variable(w));
    const std::vector<float> raw = test::parameter(q, "alpha_raw").data().to_vector(), all = w.to_vector();
    const double n = std::exp2(bits - 1) - 1;
    for (int c = 0; c < 4; ++c) {
      const std::vector<float> row(all.begin() + c * int64_t{200}, all.begin() + (c + 1) * int64_t{200});
      const double alpha = softplus(raw[c]);
      EXPECT_LE(alpha, max_abs[c] * (1 + 1e-5)) << "channel " << c;
      // No other of the 100 candidates k/100·max|w| does better.
      for (int k = 1; k <= 100; ++k)
        EXPECT_LE(grid_error(row, alpha, n, true),
                  grid_error(row, max_abs[c] * k / 100, n, true) * (1 + 1e-4))
            << "bits " << bits << " channel " << c << " candidate " << k;
    }
  }
  // Activations: from the first batch, on the unsigned grid after ReLU.
  const Tensor x = Generator(6).uniform_tensor({4000}, 0.0f, 2.0f);
  NipqQuantizer act(
      {.target = QuantTarget::activation, .bits = 3, .is_signed = std::nullopt, .calibrated_init = true});
  act.forward(Variable(x));
  const double alpha = softplus(test::parameter(act, "alpha_raw").data().item());
  EXPECT_LE(grid_error(x.to_vector(), alpha, 7, false), grid_error(x.to_vector(), 2.0, 7, false));
  EXPECT_GT(alpha, 1.0);
}

TEST(QuantizerInit, LsqStepIsTwiceMeanAbsOverSqrtQp) {
  for (int bits : {2, 3, 4, 8}) {
    const Tensor w = Generator(7 + bits).normal_tensor({3, 30}, 0.1f, 0.3f);
    const std::vector<double> mean_abs =
        per_row(w, 0.0, [](double a, float v) { return a + std::abs(v) / 30.0; });
    LsqQuantizer q({.bits = bits, .per_channel = true, .channels = 3, .is_signed = std::nullopt}, false);
    q.forward(Variable(w));
    const std::vector<float> step = test::parameter(q, "step").data().to_vector();
    const double qp = std::ldexp(1.0, bits - 1) - 1.0;
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(step[c], 2 * mean_abs[c] / std::sqrt(qp), 1e-5 * step[c]) << bits;
    for (bool negative : {false, true}) {  // activations: Qp from the signedness of the first batch
      Tensor x = Generator(8).normal_tensor({200}, 0.5f, 1.0f);
      if (!negative) x = relu_of(x);
      LsqQuantizer act({.target = QuantTarget::activation, .bits = bits, .is_signed = std::nullopt}, false);
      act.forward(Variable(x));
      double m = 0;
      for (float v : x.to_vector()) m += std::abs(v) / 200.0;
      const double qp_act = negative ? qp : std::ldexp(1.0, bits) - 1.0;
      EXPECT_EQ(act.is_signed(), negative);
      EXPECT_NEAR(test::parameter(act, "step").data().item(), 2 * m / std::sqrt(qp_act), 1e-5 * m) << bits;
    }
  }
}

TEST(QuantizerInit, FirstBatchDecidesActivationSignedness) {
  for (const std::string& method : test::method_names())
    for (bool negative : {false, true}) {
      Tensor first = Generator(9).normal_tensor({4, 16});
      if (!negative) first = relu_of(first);
      const auto q =
          make_quantizer(method, {.target = QuantTarget::activation, .bits = 4, .is_signed = std::nullopt});
      EXPECT_FALSE(q->initialized()) << method;
      q->forward(Variable(first));
      EXPECT_TRUE(q->initialized()) << method;
      EXPECT_EQ(q->is_signed(), negative) << method;
      q->forward(Variable(negative ? relu_of(first) : Generator(10).normal_tensor({4, 16})));
      EXPECT_EQ(q->is_signed(), negative) << method << ": a later batch must not change it";
      // An explicit choice wins over the data; weights are signed.
      const auto fixed = make_quantizer(method, {.target = QuantTarget::activation, .is_signed = !negative});
      fixed->forward(Variable(first));
      EXPECT_EQ(fixed->is_signed(), !negative) << method;
      const auto weight = make_quantizer(method, {.bits = 4, .is_signed = std::nullopt});
      weight->forward(Variable(relu_of(first)));
      EXPECT_TRUE(weight->is_signed()) << method;
    }
}

TEST(QuantizerInit, LearnAndFreezeBits) {
  const Tensor x = Generator(11).normal_tensor({8, 8});
  NipqQuantizer fixed({.bits = 4, .is_signed = std::nullopt, .learn_bits = false});
  EXPECT_FALSE(test::parameter(fixed, "theta").requires_grad());
  NipqQuantizer learned({.bits = 4, .is_signed = std::nullopt, .learn_bits = true});
  Variable theta = test::parameter(learned, "theta");
  EXPECT_TRUE(theta.requires_grad());
  manual_seed(12);
  learned.forward(Variable(x)).backward(Generator(13).normal_tensor({8, 8}));
  ASSERT_TRUE(theta.grad().defined());
  EXPECT_NE(theta.grad().item(), 0.0f);
  // The bit-width variable carries θ's gradient for the cost losses: d⌊b⌉_STE/dθ = 6·σ(θ)(1 − σ(θ)).
  theta.zero_grad();
  learned.bits_variable().backward();
  const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(theta.data().item())));
  EXPECT_NEAR(theta.grad().item(), 6.0 * s * (1.0 - s), 1e-5);
  theta.zero_grad();
  learned.freeze_bits(3);
  EXPECT_FALSE(theta.requires_grad());
  learned.forward(Variable(x)).backward(Generator(13).normal_tensor({8, 8}));
  EXPECT_FALSE(theta.grad().defined() && theta.grad().item() != 0.0f) << "θ still receives a gradient";
  EXPECT_EQ(learned.bits(), 3);
  EXPECT_NEAR(learned.learned_bits(), 3.0, 1e-4);
}

TEST(QuantizerInit, SteTrainingPhaseEqualsEvaluation) {
  const Variable w(Generator(14).normal_tensor({6, 10}, 0.0f, 0.3f), true);
  for (bool learn_bits : {false, true}) {
    NipqQuantizer q(
        {.bits = 3, .per_channel = true, .channels = 6, .is_signed = std::nullopt, .learn_bits = learn_bits});
    manual_seed(15);
    const std::vector<float> noisy = q.forward(w).data().to_vector();  // training, noise phase
    q.eval();
    const std::vector<float> hard = q.forward(w).data().to_vector();
    EXPECT_NE(noisy, hard) << "the noise phase must not round";
    q.train();
    q.set_phase(QuantPhase::ste);
    for (int repeat = 0; repeat < 3; ++repeat)  // no noise and no bit jitter, whatever the generator draws
      EXPECT_EQ(q.forward(w).data().to_vector(), hard)
          << "learn_bits " << learn_bits << ", repeat " << repeat;
    EXPECT_EQ(q.bits(), 3);
  }
}

}  // namespace
}  // namespace qat
