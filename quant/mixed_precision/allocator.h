#pragma once
// The allocator (MIXED_PRECISION.md, "Allocator"): per layer a set of choices (bits, value to maximise,
// integer cost), one budget on the summed cost. `solve_dp` is the exact multiple-choice knapsack every
// allocation's integer bits come from; `solve_greedy` is the comparison; `solve_lp` is OMPQ's continuous
// program, reported beside them.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qat {

/// One width of one layer.
struct Choice {
  int bits = 0;
  double value = 0;  ///< to maximise
  int64_t cost = 0;  ///< size bits, bytes or BOPs; ≥ 0
};

/// Choices per layer, each layer's sorted by increasing bits.
using ChoiceSets = std::vector<std::vector<Choice>>;

/// An integer allocation: one choice per layer.
struct Allocation {
  std::vector<size_t> pick;  ///< index into each layer's choices
  double value = 0;
  int64_t cost = 0;
  int64_t cost_scale = 1;  ///< dp: costs were divided by this and rounded up (1: exact)
  int64_t states = 0;      ///< dp: table entries filled
};

/// A fractional allocation: per layer a point between two adjacent choices of its upper hull.
struct FractionalAllocation {
  std::vector<double> bits;
  double value = 0;
  double cost = 0;
};

/// Σ of every layer's cheapest and dearest cost.
int64_t cheapest_cost(const ChoiceSets& layers);
int64_t dearest_cost(const ChoiceSets& layers);

/// Exact: f_l(c) = max_b f_{l−1}(c − c_l(b)) + v_l(b) over costs less each layer's cheapest, divided by
/// their gcd; above 2^22 states the costs are divided further and rounded up (always within budget,
/// optimal within one unit of the scaled cost per layer). Ties give earlier layers more bits. The budget
/// must lie between cheapest_cost and dearest_cost (errors name both).
Allocation solve_dp(const ChoiceSets& layers, int64_t budget);

/// From every layer's dearest choice, lowers the layer that loses the least value per cost saved until
/// within budget, then spends the slack on the best value per cost that fits.
Allocation solve_greedy(const ChoiceSets& layers, int64_t budget);

/// The linear relaxation of the multiple-choice knapsack (Sinha & Zoltners 1979): each layer moves along
/// the upper concave hull of its (cost, value) points, segments taken by decreasing value per cost, the
/// last one fractionally. For linear values and costs this is OMPQ's continuous program solved exactly.
FractionalAllocation solve_lp(const ChoiceSets& layers, int64_t budget);

}  // namespace qat
