#include "quant/mixed_precision/proxies/emq_evolution.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/error.h"
#include "engine/random.h"
#include "quant/mixed_precision/rank_correlation.h"

namespace qat {
namespace {

constexpr int kInputs = 4;

EmqGenotype random_genotype(Generator& rng) {
  EmqGenotype g;
  for (size_t b = 0; b < 2; ++b) {
    g.inputs[b] = static_cast<EmqInput>(rng.below(kInputs));
    for (int& op : g.unary[b]) op = static_cast<int>(rng.below(kEmqUnaryOps));
  }
  g.binary = static_cast<int>(rng.below(kEmqBinaryOps));
  g.mean = rng.below(2) == 0;
  return g;
}

// One change: an input, a unary op, the binary op or the reduction; or the two branches swapped.
EmqGenotype mutate(EmqGenotype g, Generator& rng) {
  const size_t branch = static_cast<size_t>(rng.below(2));
  switch (rng.below(5)) {
    case 0:
      g.inputs[branch] = static_cast<EmqInput>(rng.below(kInputs));
      break;
    case 1:
      g.unary[branch][static_cast<size_t>(rng.below(2))] = static_cast<int>(rng.below(kEmqUnaryOps));
      break;
    case 2:
      g.binary = static_cast<int>(rng.below(kEmqBinaryOps));
      break;
    case 3:
      g.mean = !g.mean;
      break;
    default:
      std::swap(g.inputs[0], g.inputs[1]);
      std::swap(g.unary[0], g.unary[1]);
  }
  return g;
}

bool too_similar(const std::vector<double>& scores, const std::vector<EmqIndividual>& members, double limit) {
  return std::any_of(members.begin(), members.end(),
                     [&](const EmqIndividual& m) { return spearman_rho(scores, m.scores) >= limit; });
}

// The member that wins a tournament of `size` drawn with replacement (the first drawn among equals).
const EmqIndividual& tournament(const std::vector<EmqIndividual>& members, int size, Generator& rng) {
  const EmqIndividual* best = nullptr;
  for (int k = 0; k < size; ++k) {
    const EmqIndividual& m = members[static_cast<size_t>(rng.below(static_cast<int64_t>(members.size())))];
    if (!best || m.fitness > best->fitness) best = &m;
  }
  return *best;
}

}  // namespace

std::optional<std::vector<double>> emq_layer_scores(const EmqGenotype& g,
                                                    const std::vector<EmqLayerInputs>& layers) {
  std::vector<double> scores;
  for (const EmqLayerInputs& in : layers) {
    try {
      scores.push_back(emq_score(g, in));
    } catch (const Error&) {
      return std::nullopt;
    }
    if (!std::isfinite(scores.back())) return std::nullopt;
  }
  // Constant up to rounding (e.g. std(normalize(x)) = 1 in every layer): no ranking of the layers.
  const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
  if (*hi - *lo <= 1e-12 * std::max(std::abs(*lo), std::abs(*hi))) return std::nullopt;
  return scores;
}

EmqEvolution evolve_emq(const std::vector<EmqLayerInputs>& layers, const EmqFitness& fitness,
                        const EmqEvolutionOptions& options) {
  QAT_CHECK(options.population >= 2 && options.tournament >= 1 && options.generations >= 0,
            "emq evolution: population ", options.population, ", tournament ", options.tournament,
            ", generations ", options.generations);
  Generator rng(options.seed);
  EmqEvolution result;
  // Offers a genotype: screened, then added to `pool` with its fitness.
  const auto offer = [&](const EmqGenotype& g, std::vector<EmqIndividual>& pool) {
    ++result.evaluated;
    const auto scores = emq_layer_scores(g, layers);
    if (!scores || too_similar(*scores, pool, options.max_spearman)) {
      ++result.rejected;
      return;
    }
    pool.push_back({g, *scores, fitness(*scores)});
  };
  std::vector<EmqIndividual>& members = result.population;
  offer(EmqGenotype::seed(), members);
  QAT_CHECK(!members.empty(), "emq evolution: the seed genotype ", EmqGenotype::seed().str(),
            " is invalid on these layers");
  // Random starts; bounded so that inputs admitting few valid trees cannot loop forever.
  for (int attempt = 0;
       std::cmp_less(members.size(), options.population) && attempt < 100 * options.population; ++attempt)
    offer(random_genotype(rng), members);
  const size_t keep = members.size();
  for (int generation = 0; generation < options.generations; ++generation) {
    std::vector<EmqIndividual> pool = members;
    for (int child = 0; child < options.population; ++child)
      offer(mutate(tournament(members, options.tournament, rng).genotype, rng), pool);
    std::stable_sort(pool.begin(), pool.end(),
                     [](const EmqIndividual& a, const EmqIndividual& b) { return a.fitness > b.fitness; });
    pool.resize(std::min(pool.size(), keep));
    members = std::move(pool);
  }
  std::stable_sort(members.begin(), members.end(),
                   [](const EmqIndividual& a, const EmqIndividual& b) { return a.fitness > b.fitness; });
  return result;
}

}  // namespace qat
