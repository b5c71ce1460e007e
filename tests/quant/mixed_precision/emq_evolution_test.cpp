// EMQ's evolution: screening rejects invalid trees (shape mismatch, NaN/Inf, constant scores); the search is
// deterministic for a seed and never ends below the seed genotype's fitness.
#include "quant/mixed_precision/proxies/emq_evolution.h"

#include <gtest/gtest.h>

#include "engine/random.h"
#include "quant/mixed_precision/rank_correlation.h"

namespace qat {
namespace {

using Eigen::MatrixXd;

MatrixXd random_matrix(Generator& rng, int rows, int cols) {
  MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.normal();
  return m;
}

// Six layers of different widths, each input drawn at random.
std::vector<EmqLayerInputs> layers() {
  Generator rng(3);
  std::vector<EmqLayerInputs> out;
  for (int l = 0; l < 6; ++l) {
    const int channels = 2 + l, rest = 3 + 2 * l;
    out.push_back({.act = random_matrix(rng, 4, 5 * channels),
                   .grad = random_matrix(rng, channels, rest),
                   .weight = random_matrix(rng, channels, rest) * (1.0 + l),
                   .virtual_grad = random_matrix(rng, channels, rest)});
  }
  return out;
}

TEST(EmqEvolution, ScreeningRejectsInvalidTrees) {
  const std::vector<EmqLayerInputs> in = layers();
  EXPECT_TRUE(emq_layer_scores(EmqGenotype::seed(), in).has_value());
  EmqGenotype mismatch;  // act [4, 5c] against weight [c, r] element-wise
  mismatch.inputs = {EmqInput::act, EmqInput::weight};
  mismatch.unary = {{{18, 18}, {18, 18}}};
  EXPECT_FALSE(emq_layer_scores(mismatch, in).has_value());
  EmqGenotype infinite = mismatch;  // log of relu: log 0 = −∞ somewhere in every layer
  infinite.inputs = {EmqInput::grad, EmqInput::grad};
  infinite.unary = {{{6, 0}, {18, 18}}};
  EXPECT_FALSE(emq_layer_scores(infinite, in).has_value());
  EmqGenotype constant = mismatch;  // std(normalize(W)) = 1 in every layer, times itself
  constant.inputs = {EmqInput::weight, EmqInput::weight};
  constant.unary = {{{5, 17}, {5, 17}}};
  constant.binary = 2;
  EXPECT_FALSE(emq_layer_scores(constant, in).has_value());
}

TEST(EmqEvolution, DeterministicForASeedAndNoWorseThanTheSeed) {
  const std::vector<EmqLayerInputs> in = layers();
  // Target: the layers' weight norms, which some tree (norm of the weight) reproduces exactly.
  std::vector<double> target;
  target.reserve(in.size());
  for (const EmqLayerInputs& l : in) target.push_back(l.weight.norm());
  const EmqFitness fitness = [&](const std::vector<double>& s) { return kendall_tau_b(s, target); };
  const EmqEvolutionOptions options{.population = 8, .generations = 12, .tournament = 3, .seed = 5};
  const EmqEvolution a = evolve_emq(in, fitness, options);
  const EmqEvolution b = evolve_emq(in, fitness, options);
  ASSERT_EQ(a.population.size(), b.population.size());
  for (size_t i = 0; i < a.population.size(); ++i) {
    EXPECT_EQ(a.population[i].genotype.str(), b.population[i].genotype.str());
    EXPECT_EQ(a.population[i].fitness, b.population[i].fitness);
  }
  EXPECT_EQ(a.evaluated, b.evaluated);
  const double seed_fitness = fitness(*emq_layer_scores(EmqGenotype::seed(), in));
  EXPECT_GE(a.population.front().fitness, seed_fitness);
  EXPECT_GT(a.population.front().fitness, 0.5);
  for (size_t i = 1; i < a.population.size(); ++i)
    EXPECT_LT(spearman_rho(a.population[0].scores, a.population[i].scores), 0.99);  // diversity kept
}

}  // namespace
}  // namespace qat
