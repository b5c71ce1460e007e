#pragma once
// EMQ's search for a proxy (MIXED_PRECISION.md, "emq"): a population of expression trees, seeded with the
// authors' best genotype, evolved by tournament selection and single mutations, screened for validity and
// diversity, judged by a fitness such as the benchmark's rank correlation on its search split.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "quant/mixed_precision/proxies/emq_genotype.h"

namespace qat {

/// Higher is better: e.g. Kendall τ of the configs' scores Σ s_l·b_l against their accuracy.
using EmqFitness = std::function<double(const std::vector<double>& layer_scores)>;

/// The search's settings.
struct EmqEvolutionOptions {
  int population = 64;
  int generations = 200;
  int tournament = 4;
  double max_spearman = 0.99;  ///< a child this rank-similar to a member is rejected (diversity)
  uint64_t seed = 1;
};

/// One member: its genotype, per-layer scores and fitness.
struct EmqIndividual {
  EmqGenotype genotype;
  std::vector<double> scores;
  double fitness = 0;
};

/// The final population, fittest first (ties by age), and how many children were screened out.
struct EmqEvolution {
  std::vector<EmqIndividual> population;
  int64_t evaluated = 0;
  int64_t rejected = 0;
};

/// The genotype's score for every layer; empty when screening rejects it (a shape mismatch under a
/// binary op, a NaN or Inf, or the same score for every layer up to rounding).
std::optional<std::vector<double>> emq_layer_scores(const EmqGenotype& g,
                                                    const std::vector<EmqLayerInputs>& layers);

/// Evolves from the seed genotype; deterministic for options.seed (fitness must be deterministic too).
EmqEvolution evolve_emq(const std::vector<EmqLayerInputs>& layers, const EmqFitness& fitness,
                        const EmqEvolutionOptions& options);

}  // namespace qat
