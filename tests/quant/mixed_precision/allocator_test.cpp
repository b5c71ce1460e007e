// The allocator: the dp equals brute force on small random instances and never exceeds the budget;
// greedy ≤ dp ≤ lp in objective; scaled costs stay feasible; budgets outside the reachable range name both
// bounds.
#include "quant/mixed_precision/allocator.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/test_util.h"

namespace qat {
namespace {

// `count` layers with choices {2, 3, 4}: costs rising with bits (numel·b plus a fixed part), random values.
ChoiceSets random_layers(std::mt19937& rng, size_t count, bool linear_values) {
  std::uniform_int_distribution<int64_t> numel(1, 40);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  ChoiceSets layers(count);
  for (auto& choices : layers) {
    const int64_t n = numel(rng), fixed = numel(rng);
    const double slope = value(rng), offset = value(rng);
    double v = value(rng);
    for (int bits = 2; bits <= 4; ++bits) {
      v += std::abs(value(rng));  // random values increasing with bits
      choices.push_back(
          {.bits = bits, .value = linear_values ? offset + slope * bits : v, .cost = fixed + n * bits});
    }
  }
  return layers;
}

// The best value within budget over every combination.
double brute_force(const ChoiceSets& layers, int64_t budget) {
  double best = -1e300;
  std::vector<size_t> pick(layers.size(), 0);
  for (;;) {
    double value = 0;
    int64_t cost = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      value += layers[l][pick[l]].value;
      cost += layers[l][pick[l]].cost;
    }
    if (cost <= budget) best = std::max(best, value);
    size_t l = 0;
    while (l < layers.size() && ++pick[l] == layers[l].size()) pick[l++] = 0;
    if (l == layers.size()) return best;
  }
}

int64_t random_budget(std::mt19937& rng, const ChoiceSets& layers) {
  return std::uniform_int_distribution<int64_t>(cheapest_cost(layers), dearest_cost(layers))(rng);
}

TEST(Allocator, DpEqualsBruteForceAndKeepsTheBudget) {
  std::mt19937 rng(13);
  for (int trial = 0; trial < 100; ++trial) {
    const ChoiceSets layers = random_layers(rng, 1 + trial % 10, false);
    const int64_t budget = random_budget(rng, layers);
    const Allocation a = solve_dp(layers, budget);
    EXPECT_LE(a.cost, budget) << "trial " << trial;
    EXPECT_EQ(a.cost_scale, 1);
    EXPECT_NEAR(a.value, brute_force(layers, budget), 1e-9) << "trial " << trial;
  }
}

TEST(Allocator, GreedyNeverBeatsDpAndLpBoundsIt) {
  std::mt19937 rng(14);
  int greedy_short = 0;
  for (int trial = 0; trial < 100; ++trial) {
    const ChoiceSets layers = random_layers(rng, 2 + trial % 9, trial % 2 == 0);
    const int64_t budget = random_budget(rng, layers);
    const Allocation dp = solve_dp(layers, budget), greedy = solve_greedy(layers, budget);
    const FractionalAllocation lp = solve_lp(layers, budget);
    EXPECT_LE(greedy.cost, budget);
    EXPECT_LE(greedy.value, dp.value + 1e-9) << "trial " << trial;
    EXPECT_GE(lp.value, dp.value - 1e-9) << "trial " << trial;
    EXPECT_LE(lp.cost, static_cast<double>(budget) + 1e-6);
    greedy_short += greedy.value < dp.value - 1e-9;
  }
  EXPECT_GT(greedy_short, 0) << "greedy matched the dp on every instance: the comparison shows nothing";
}

// Linear values and costs: the lp raises the layers by decreasing value per cost, one fractionally.
TEST(Allocator, LpIsTheFractionalKnapsack) {
  ChoiceSets layers;
  const int64_t numel[] = {10, 20, 40};
  const double score[] = {3.0, 2.0, 2.0};  // per bit: value/cost = 0.3, 0.1, 0.05
  for (int l = 0; l < 3; ++l) {
    layers.emplace_back();
    for (int b = 2; b <= 4; ++b)
      layers.back().push_back({.bits = b, .value = score[l] * b, .cost = numel[l] * b});
  }
  // Cheapest 140; layer 0 to 4 bits (+20), layer 1 by 1.5 bits (+30) of its 2.
  const FractionalAllocation lp = solve_lp(layers, 190);
  ASSERT_EQ(lp.bits.size(), 3U);
  EXPECT_DOUBLE_EQ(lp.bits[0], 4.0);
  EXPECT_DOUBLE_EQ(lp.bits[1], 3.5);
  EXPECT_DOUBLE_EQ(lp.bits[2], 2.0);
  EXPECT_DOUBLE_EQ(lp.cost, 190.0);
  EXPECT_DOUBLE_EQ(lp.value, 3.0 * 4 + 2.0 * 3.5 + 2.0 * 2);
}

// Costs too large for the table are scaled and rounded up: still within budget and near the optimum.
TEST(Allocator, ScaledCostsStayFeasible) {
  std::mt19937 rng(15);
  for (int trial = 0; trial < 20; ++trial) {
    ChoiceSets layers = random_layers(rng, 8, false);
    for (auto& choices : layers)
      for (Choice& c : choices) c.cost = c.cost * 1000003 + int64_t{7} * c.bits;  // gcd 1, range ≈ 10^8
    const int64_t budget = random_budget(rng, layers);
    const Allocation a = solve_dp(layers, budget);
    EXPECT_GT(a.cost_scale, 1);
    EXPECT_LE(a.states, int64_t{1} << 22);
    EXPECT_LE(a.cost, budget);
    EXPECT_LE(a.value, brute_force(layers, budget) + 1e-9);
  }
}

TEST(Allocator, TiesGiveEarlierLayersMoreBits) {
  ChoiceSets layers(2);
  for (auto& choices : layers)
    for (int b = 2; b <= 4; ++b) choices.push_back({.bits = b, .value = 1.0 * b, .cost = int64_t{10} * b});
  const Allocation a = solve_dp(layers, 70);  // 3+4 or 4+3 bits: the same value
  EXPECT_EQ(layers[0][a.pick[0]].bits, 4);
  EXPECT_EQ(layers[1][a.pick[1]].bits, 3);
}

TEST(Allocator, BudgetOutsideTheRangeNamesBothBounds) {
  ChoiceSets layers(2);
  for (auto& choices : layers)
    for (int b = 2; b <= 4; ++b) choices.push_back({.bits = b, .value = 1.0 * b, .cost = int64_t{10} * b});
  for (const int64_t budget : {39, 81}) {
    const std::string error = test::error_of([&] { solve_dp(layers, budget); });
    EXPECT_NE(error.find("40"), std::string::npos) << error;
    EXPECT_NE(error.find("80"), std::string::npos) << error;
    EXPECT_NE(error.find(std::to_string(budget)), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace qat
