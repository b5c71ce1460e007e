// Distillation loss against a hand-computed value and finite differences; classification loss on
// sequences ignores unmasked positions; gradient clipping and the weight EMA follow their formulas.
#include "trainers/losses.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/reduce.h"
#include "engine/error.h"
#include "engine/random.h"
#include "layers/linear.h"
#include "trainers/sgd.h"
#include "trainers/weight_ema.h"

namespace qat {
namespace {

// Tolerances: gradcheck's defaults (central differences, eps 1e-2, atol 2e-3, rtol 1e-2).

TEST(DistillationLoss, MatchesTheFormula) {
  const Tensor s = Tensor::from_vector({1, 3}, {1.0f, 0.0f, -1.0f});
  const Tensor t = Tensor::from_vector({1, 3}, {0.5f, 0.5f, 2.0f});
  const float temperature = 2.0f;
  double expected = 0.0, zs = 0.0, zt = 0.0;
  const std::vector<float> sv = s.to_vector(), tv = t.to_vector();
  for (int c = 0; c < 3; ++c) {
    zs += std::exp(sv[c] / temperature);
    zt += std::exp(tv[c] / temperature);
  }
  for (int c = 0; c < 3; ++c)
    expected -= std::exp(tv[c] / temperature) / zt * (sv[c] / temperature - std::log(zs));
  expected *= temperature * temperature;
  EXPECT_NEAR(distillation_loss(Variable(s), t, temperature).data().item(), expected, 1e-5);
}

TEST(DistillationLoss, IsMinimalWhenStudentMatchesTeacher) {
  const Tensor t = Generator(3).normal_tensor({4, 5});
  const Variable student(t.clone(), true);
  const Variable loss = distillation_loss(student, t, 3.0f);
  loss.backward();
  for (float g : student.grad().to_vector()) EXPECT_NEAR(g, 0.0f, 1e-6);
}

TEST(DistillationLoss, GradientMatchesFiniteDifferences) {
  const Tensor teacher = Generator(4).normal_tensor({3, 6});
  const std::string failure =
      gradcheck([&](const std::vector<Variable>& in) { return distillation_loss(in[0], teacher, 2.0f); },
                {Generator(5).normal_tensor({3, 6})});
  EXPECT_EQ(failure, "");
}

TEST(DistillationLoss, ShapeMismatchNamesBoth) {
  try {
    distillation_loss(Variable(Tensor::zeros({2, 3})), Tensor::zeros({2, 4}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 4]"), std::string::npos) << e.what();
  }
}

TEST(ClassificationLoss, SequencesScoreOnlyTargetedPositions) {
  const Tensor logits = Generator(6).normal_tensor({2, 3, 5});
  Tensor targets = Tensor::empty({2, 3}, DType::s32);
  const int32_t values[] = {1, kIgnoreIndex, 4, kIgnoreIndex, kIgnoreIndex, 0};
  std::copy(values, values + 6, targets.data<int32_t>());
  const std::vector<float> l = logits.to_vector();
  double expected = 0.0;
  for (int row : {0, 2, 5}) {
    double z = 0.0;
    for (int c = 0; c < 5; ++c) z += std::exp(l[row * 5 + c]);
    expected += std::log(z) - l[row * 5 + values[row]];
  }
  EXPECT_NEAR(classification_loss(Variable(logits), targets).data().item(), expected / 3, 1e-5);
}

TEST(ClipGradNorm, ScalesToTheMaximumNorm) {
  Variable a(Tensor::full({2}, 0.0f), true), b(Tensor::full({1}, 0.0f), true);
  Sgd sgd({{.params = {a, b}, .weight_decay = 0.0f}}, {.lr = 1.0f, .momentum = 0.0f, .nesterov = false});
  (sum(a * Variable(Tensor::from_vector({2}, {3.0f, 0.0f}))) + sum(b * 4.0f)).backward();
  EXPECT_NEAR(sgd.clip_grad_norm(1.0), 5.0, 1e-6);  // ‖(3, 0, 4)‖
  EXPECT_NEAR(a.grad().to_vector()[0], 0.6f, 1e-6);
  EXPECT_NEAR(b.grad().to_vector()[0], 0.8f, 1e-6);
  EXPECT_NEAR(sgd.clip_grad_norm(10.0), 1.0, 1e-5);  // below the limit: unchanged
  EXPECT_NEAR(a.grad().to_vector()[0], 0.6f, 1e-6);
}

TEST(WeightEma, AveragesAndSwapsParameters) {
  Linear layer({.in = 1, .out = 1, .bias = false});
  Variable w = layer.weight();
  w.set_data(Tensor::full({1, 1}, 1.0f));
  WeightEma ema(layer, 0.5f);
  w.set_data(Tensor::full({1, 1}, 3.0f));
  ema.update();  // 0.5·1 + 0.5·3 = 2
  w.set_data(Tensor::full({1, 1}, 5.0f));
  ema.update();  // 0.5·2 + 0.5·5 = 3.5
  ema.swap();
  EXPECT_FLOAT_EQ(layer.weight().data().item(), 3.5f);
  ema.swap();
  EXPECT_FLOAT_EQ(layer.weight().data().item(), 5.0f);
  WeightEma restored(layer, 0.5f);
  restored.load_state(ema.state());
  restored.swap();
  EXPECT_FLOAT_EQ(layer.weight().data().item(), 3.5f);
}

}  // namespace
}  // namespace qat
