// freeze_learned_bits: learned widths become ⌊b⌋ or ⌈b⌉ so that the rounded totals meet the cost target,
// where rounding each width to its nearest integer would miss it; frozen widths stay on a re-freeze.
#include "quant/bit_freeze.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/random.h"
#include "layers/models/resnet.h"
#include "quant/quantizers/nipq_quantizer.h"
#include "tests/quant/quant_test_util.h"

namespace qat {
namespace {

// A ResNet-20 with learned NIPQ widths set to 2.45, 2.95, 3.45, … (nearest rounding lowers each by 0.45).
struct LearnedModel {
  std::shared_ptr<Sequential> model = resnet20(1, 10);
  QuantizedModel q;

  LearnedModel() {
    manual_seed(21);
    QuantPolicy p;
    p.method = "nipq";
    p.weight_bits = p.act_bits = 4;
    p.weight.learn_bits = p.activation.learn_bits = true;
    q = quant::apply(*model, p);
    model->forward(Variable(Generator(22).uniform_tensor({2, 1, 28, 28}, 0.0f, 1.0f)));
    int i = 0;
    for (Quantizer* quantizer : q.quantizers()) {
      if (!quantizer->options().learn_bits) continue;
      const float b = 2.45f + 0.5f * static_cast<float>(i++ % 4);
      test::parameter(*quantizer, "theta").set_data(Tensor::full({1}, nipq_theta_for_bits(b, 2, 8)));
    }
  }

  // The totals with the widths before rounding: what NIPQ's cost loss drives toward the target.
  ModelCost learned_cost() const {
    ModelCost c;
    double weights = 0, act = 0, act_elements = 0;
    for (const auto& site : q.layers) {
      const QuantizedLayer& l = *site.layer;
      const double wb = l.weight_quantizer()->learned_bits();
      const double ab = l.input_quantizer() ? l.input_quantizer()->learned_bits() : kFloatBits;
      const auto numel = static_cast<double>(l.layer().weight().numel());
      c.weight_size_bits += numel * wb;
      weights += numel;
      if (l.input_quantizer()) {
        act += l.input_elements_per_sample() * ab;
        act_elements += l.input_elements_per_sample();
      }
      c.gbops += l.macs_per_sample() * wb * ab / 1e9;
    }
    c.avg_weight_bits = c.weight_size_bits / weights;
    c.avg_act_bits = act / act_elements;
    return c;
  }

  void expect_each_width_a_neighbour_and_frozen(const std::vector<double>& before) const {
    size_t i = 0;
    for (Quantizer* quantizer : q.quantizers()) {
      const double b = before[i++];
      EXPECT_TRUE(quantizer->bits() == static_cast<int>(std::floor(b)) ||
                  quantizer->bits() == static_cast<int>(std::ceil(b)))
          << "learned " << b << " frozen at " << quantizer->bits();
      EXPECT_FALSE(quantizer->options().learn_bits && test::parameter(*quantizer, "theta").requires_grad());
    }
  }

  std::vector<double> learned_bits() const {
    std::vector<double> out;
    for (Quantizer* quantizer : q.quantizers()) out.push_back(quantizer->learned_bits());
    return out;
  }

  std::vector<int> bits() const {
    std::vector<int> out;
    for (Quantizer* quantizer : q.quantizers()) out.push_back(quantizer->bits());
    return out;
  }
};

double relative(double value, double target) { return std::abs(value - target) / target; }

TEST(BitFreeze, AverageBitTargetIsMetWhereNearestRoundingMissesIt) {
  LearnedModel m;
  const ModelCost learned = m.learned_cost();
  const ModelCost nearest = total_cost(layer_costs(m.q));
  ASSERT_GT(relative(nearest.avg_weight_bits, learned.avg_weight_bits), 0.02) << "the fixture must be hard";
  const double target = (learned.avg_weight_bits + learned.avg_act_bits) / 2;
  const std::vector<double> before = m.learned_bits();
  freeze_learned_bits(m.q, {.avg_bits = static_cast<float>(target), .gbops = 0, .weight = 1});
  const ModelCost frozen = total_cost(layer_costs(m.q));
  EXPECT_LE(relative(frozen.avg_weight_bits, target), 0.02);
  EXPECT_LE(relative(frozen.avg_act_bits, target), 0.02);
  m.expect_each_width_a_neighbour_and_frozen(before);
}

TEST(BitFreeze, BopsTargetIsMet) {
  LearnedModel m;
  const double target = m.learned_cost().gbops;
  ASSERT_GT(relative(total_cost(layer_costs(m.q)).gbops, target), 0.02);
  const std::vector<double> before = m.learned_bits();
  freeze_learned_bits(m.q, {.avg_bits = 0, .gbops = static_cast<float>(target), .weight = 1});
  EXPECT_LE(relative(total_cost(layer_costs(m.q)).gbops, target), 0.02);
  m.expect_each_width_a_neighbour_and_frozen(before);
}

TEST(BitFreeze, TargetBelowEveryFloorMovesWidthsFurther) {
  // As when training stopped short of the target: even ⌊b⌋ everywhere costs more than it allows.
  LearnedModel m;
  for (Quantizer* quantizer : m.q.quantizers())
    if (quantizer->options().learn_bits)
      quantizer->freeze_bits(static_cast<int>(std::floor(quantizer->learned_bits())));
  const double floors = total_cost(layer_costs(m.q)).gbops;
  LearnedModel fresh;
  const double target = 0.9 * floors;
  freeze_learned_bits(fresh.q, {.avg_bits = 0, .gbops = static_cast<float>(target), .weight = 1});
  EXPECT_LE(relative(total_cost(layer_costs(fresh.q)).gbops, target), 0.02);
}

TEST(BitFreeze, WithoutTargetEachWidthRoundsToNearest) {
  LearnedModel m;
  const std::vector<int> nearest = m.bits();
  freeze_learned_bits(m.q, {});
  EXPECT_EQ(m.bits(), nearest);
}

TEST(BitFreeze, AFrozenModelKeepsItsWidths) {
  LearnedModel m;
  const CostTarget target{.avg_bits = 0, .gbops = static_cast<float>(m.learned_cost().gbops), .weight = 1};
  freeze_learned_bits(m.q, target);
  const std::vector<int> frozen = m.bits();
  for (Quantizer* quantizer : m.q.quantizers()) test::parameter(*quantizer, "theta").set_requires_grad(true);
  freeze_learned_bits(m.q, target);  // as after a resume in the final phase
  EXPECT_EQ(m.bits(), frozen);
}

}  // namespace
}  // namespace qat
