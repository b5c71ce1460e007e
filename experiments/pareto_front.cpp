#include "experiments/pareto_front.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qat {

// Sorted by size, then best quality first: a point is on the front when it is strictly better than
// every point before it of smaller size, or equal to the last front point.
std::vector<size_t> pareto_front(const std::vector<ParetoPoint>& points, bool higher_is_better) {
  auto better = [&](double a, double b) { return higher_is_better ? a > b : a < b; };
  std::vector<size_t> order;
  for (size_t i = 0; i < points.size(); ++i)
    if (std::isfinite(points[i].size) && std::isfinite(points[i].quality)) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (points[a].size != points[b].size) return points[a].size < points[b].size;
    return better(points[a].quality, points[b].quality);
  });
  std::vector<size_t> front;
  for (const size_t i : order) {
    if (front.empty() || better(points[i].quality, points[front.back()].quality)) {
      front.push_back(i);
      continue;
    }
    const ParetoPoint& last = points[front.back()];
    if (points[i].quality == last.quality && points[i].size == last.size) front.push_back(i);
  }
  return front;
}

}  // namespace qat
