#pragma once
// The Pareto front of (size, quality) points: the points no other point beats in both.
#include <cstddef>
#include <vector>

namespace qat {

/// One candidate: smaller size is better; quality is better higher (accuracy) or lower (perplexity).
struct ParetoPoint {
  double size = 0;
  double quality = 0;
};

/// Indices of the points no other point dominates (at most the size and at least as good in quality,
/// better in one), ordered by size then index; points with a non-finite coordinate are left out.
/// Equal points all stay on the front.
std::vector<size_t> pareto_front(const std::vector<ParetoPoint>& points, bool higher_is_better);

}  // namespace qat
