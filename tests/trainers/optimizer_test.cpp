// Optimizer updates against the PyTorch update rules written out by hand for two steps.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/error.h"
#include "trainers/adamw.h"
#include "trainers/sgd.h"

namespace qat {
namespace {

void set_grad(Variable& p, float g) {
  p.zero_grad();
  Variable::record("id", p.data().clone(), {p}, [](const Tensor& grad) -> std::vector<Tensor> {
    return {grad};
  }).backward(Tensor::full(p.shape(), g));
}

TEST(Sgd, NesterovMomentumWithWeightDecayMatchesPyTorch) {
  Variable p(Tensor::full({1}, 1.0f), true);
  Sgd sgd({{.params = {p}, .weight_decay = 0.1f}}, {.lr = 0.5f, .momentum = 0.9f, .nesterov = true});
  set_grad(p, 2.0f);
  sgd.step();
  // g = 2 + 0.1 = 2.1; v = 2.1; p = 1 - 0.5 (2.1 + 0.9·2.1) = -0.995
  EXPECT_NEAR(p.data().item(), -0.995f, 1e-6);
  set_grad(p, -1.0f);
  sgd.step();
  // g = -1 - 0.0995 = -1.0995; v = 0.9·2.1 - 1.0995 = 0.7905; p = -0.995 - 0.5 (-1.0995 + 0.9·0.7905)
  EXPECT_NEAR(p.data().item(), -0.995f - 0.5f * (-1.0995f + 0.9f * 0.7905f), 1e-6);
}

TEST(Sgd, PlainMomentumAndStateRoundTrip) {
  Variable p(Tensor::full({2}, 0.0f), true);
  Sgd sgd({{.params = {p}, .weight_decay = 0.0f}}, {.lr = 1.0f, .momentum = 0.5f, .nesterov = false});
  set_grad(p, 1.0f);
  sgd.step();
  const auto state = sgd.state();
  Variable q(p.data().clone(), true);
  Sgd resumed({{.params = {q}, .weight_decay = 0.0f}}, {.lr = 1.0f, .momentum = 0.5f, .nesterov = false});
  resumed.load_state(state);
  set_grad(p, 1.0f);
  set_grad(q, 1.0f);
  sgd.step();
  resumed.step();
  EXPECT_EQ(p.data().to_vector(), q.data().to_vector());
  EXPECT_NEAR(p.data().to_vector()[0], -1.0f - 1.5f, 1e-6);
  EXPECT_THROW(resumed.load_state({{"momentum.5", Tensor::zeros({2})}}), Error);
}

TEST(AdamW, TwoStepsMatchTheFormula) {
  Variable p(Tensor::full({1}, 1.0f), true);
  AdamW adam({{.params = {p}, .weight_decay = 0.01f}},
             {.lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f});
  double expected = 1.0, m = 0, v = 0;
  const float grads[] = {0.5f, -2.0f};
  for (int t = 1; t <= 2; ++t) {
    set_grad(p, grads[t - 1]);
    adam.step();
    expected *= 1 - 0.1 * 0.01;
    m = 0.9 * m + 0.1 * grads[t - 1];
    v = 0.999 * v + 0.001 * grads[t - 1] * grads[t - 1];
    expected -= 0.1 * (m / (1 - std::pow(0.9, t))) / (std::sqrt(v / (1 - std::pow(0.999, t))) + 1e-8);
    EXPECT_NEAR(p.data().item(), expected, 1e-5) << "step " << t;
  }
}

TEST(Optimizer, SkipsParametersWithoutGradient) {
  Variable p(Tensor::full({1}, 3.0f), true);
  Sgd sgd({{.params = {p}, .weight_decay = 0.5f}}, {.lr = 1.0f, .momentum = 0.9f, .nesterov = true});
  sgd.step();
  EXPECT_EQ(p.data().item(), 3.0f);
}

}  // namespace
}  // namespace qat
