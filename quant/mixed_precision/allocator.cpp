#include "quant/mixed_precision/allocator.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>

#include "engine/error.h"

namespace qat {
namespace {

constexpr int64_t kMaxStates = int64_t{1} << 22;

void check_layers(const ChoiceSets& layers) {
  QAT_CHECK(!layers.empty(), "allocator: no layer to allocate");
  for (size_t l = 0; l < layers.size(); ++l) {
    QAT_CHECK(!layers[l].empty() && layers[l].size() <= 255, "allocator: layer ", l, " has ",
              layers[l].size(), " choices (1 to 255)");
    for (const Choice& c : layers[l]) QAT_CHECK(c.cost >= 0, "allocator: layer ", l, " has a negative cost");
  }
}

void check_budget(const ChoiceSets& layers, int64_t budget) {
  check_layers(layers);
  const int64_t lo = cheapest_cost(layers), hi = dearest_cost(layers);
  QAT_CHECK(budget >= lo && budget <= hi, "allocator: budget ", budget, " outside [", lo, ", ", hi,
            "] (the cheapest and the dearest configuration)");
}

int64_t min_cost(const std::vector<Choice>& choices) {
  int64_t m = choices[0].cost;
  for (const Choice& c : choices) m = std::min(m, c.cost);
  return m;
}

int64_t max_cost(const std::vector<Choice>& choices) {
  int64_t m = choices[0].cost;
  for (const Choice& c : choices) m = std::max(m, c.cost);
  return m;
}

Allocation finish(const ChoiceSets& layers, std::vector<size_t> pick) {
  Allocation a;
  for (size_t l = 0; l < layers.size(); ++l) {
    a.value += layers[l][pick[l]].value;
    a.cost += layers[l][pick[l]].cost;
  }
  a.pick = std::move(pick);
  return a;
}

}  // namespace

int64_t cheapest_cost(const ChoiceSets& layers) {
  int64_t sum = 0;
  for (const auto& choices : layers) sum += min_cost(choices);
  return sum;
}

int64_t dearest_cost(const ChoiceSets& layers) {
  int64_t sum = 0;
  for (const auto& choices : layers) sum += max_cost(choices);
  return sum;
}

Allocation solve_dp(const ChoiceSets& layers, int64_t budget) {
  check_budget(layers, budget);
  // Costs above each layer's cheapest, in units of their gcd (then of `scale`, rounded up).
  int64_t unit = 0;
  for (const auto& choices : layers)
    for (const Choice& c : choices) unit = std::gcd(unit, c.cost - min_cost(choices));
  unit = std::max<int64_t>(unit, 1);
  const int64_t slack = (budget - cheapest_cost(layers)) / unit;
  const auto count = static_cast<int64_t>(layers.size());
  const int64_t scale = std::max<int64_t>(1, ((slack + 1) * count + kMaxStates - 1) / kMaxStates);
  const int64_t capacity = slack / scale;
  const auto width = static_cast<size_t>(capacity + 1);
  std::vector<std::vector<int64_t>> cost(layers.size());
  for (size_t l = 0; l < layers.size(); ++l)
    for (const Choice& c : layers[l]) {
      const int64_t units = (c.cost - min_cost(layers[l])) / unit;  // exact: unit divides it
      cost[l].push_back((units + scale - 1) / scale);
    }
  // f[c]: the best value of the layers so far within c units; pick[l][c]: layer l's choice there.
  constexpr double kNone = -std::numeric_limits<double>::infinity();
  std::vector<double> f(width, 0.0), next(width);
  std::vector<std::vector<uint8_t>> pick(layers.size(), std::vector<uint8_t>(width, 0));
  for (size_t l = 0; l < layers.size(); ++l) {
    std::fill(next.begin(), next.end(), kNone);
    for (size_t c = 0; c < width; ++c)
      for (size_t k = 0; k < layers[l].size(); ++k) {
        const auto ck = static_cast<size_t>(cost[l][k]);
        if (ck > c || f[c - ck] == kNone) continue;
        // Strictly better only: on a tie this layer keeps the cheaper choice, leaving the earlier layers
        // (decided later, walking back) the capacity for more bits.
        const double v = f[c - ck] + layers[l][k].value;
        if (v > next[c] || (v == next[c] && cost[l][k] < cost[l][pick[l][c]])) {
          next[c] = v;
          pick[l][c] = static_cast<uint8_t>(k);
        }
      }
    std::swap(f, next);
  }
  std::vector<size_t> chosen(layers.size());
  size_t c = width - 1;
  for (size_t l = layers.size(); l-- > 0;) {
    chosen[l] = pick[l][c];
    c -= static_cast<size_t>(cost[l][chosen[l]]);
  }
  Allocation a = finish(layers, std::move(chosen));
  a.cost_scale = scale;
  a.states = static_cast<int64_t>(width) * count;
  return a;
}

Allocation solve_greedy(const ChoiceSets& layers, int64_t budget) {
  check_budget(layers, budget);
  std::vector<size_t> pick(layers.size());
  int64_t total = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    pick[l] = layers[l].size() - 1;
    total += layers[l][pick[l]].cost;
  }
  while (total > budget) {  // lower the layer losing the least value per cost saved
    size_t best = layers.size();
    double best_ratio = std::numeric_limits<double>::infinity();
    for (size_t l = 0; l < layers.size(); ++l) {
      if (pick[l] == 0) continue;
      const Choice &now = layers[l][pick[l]], &lower = layers[l][pick[l] - 1];
      const int64_t saved = now.cost - lower.cost;
      const double ratio = saved > 0 ? (now.value - lower.value) / static_cast<double>(saved)
                                     : std::numeric_limits<double>::max();
      if (ratio < best_ratio) {
        best_ratio = ratio;
        best = l;
      }
    }
    QAT_CHECK(best < layers.size(), "allocator: greedy found no layer to lower");
    total -= layers[best][pick[best]].cost - layers[best][pick[best] - 1].cost;
    --pick[best];
  }
  for (;;) {  // one upgrade pass over the slack: the best value per cost that fits, until none does
    size_t best = layers.size();
    double best_ratio = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      if (pick[l] + 1 == layers[l].size()) continue;
      const Choice &now = layers[l][pick[l]], &upper = layers[l][pick[l] + 1];
      const int64_t extra = upper.cost - now.cost;
      const double gain = upper.value - now.value;
      if (gain <= 0 || total + extra > budget) continue;
      const double ratio = extra > 0 ? gain / static_cast<double>(extra) : std::numeric_limits<double>::max();
      if (ratio > best_ratio) {
        best_ratio = ratio;
        best = l;
      }
    }
    if (best == layers.size()) break;
    total += layers[best][pick[best] + 1].cost - layers[best][pick[best]].cost;
    ++pick[best];
  }
  return finish(layers, std::move(pick));
}

FractionalAllocation solve_lp(const ChoiceSets& layers, int64_t budget) {
  check_budget(layers, budget);
  struct Segment {
    size_t layer;
    double dcost, dvalue;
    int from_bits, to_bits;
  };
  FractionalAllocation out;
  std::vector<Segment> segments;
  for (size_t l = 0; l < layers.size(); ++l) {
    // Points by cost (then value); the upper concave hull from the cheapest point.
    std::vector<Choice> points = layers[l];
    std::sort(points.begin(), points.end(), [](const Choice& a, const Choice& b) {
      return a.cost != b.cost ? a.cost < b.cost : a.value > b.value;
    });
    std::vector<Choice> hull;
    for (const Choice& p : points) {
      if (!hull.empty() && p.value <= hull.back().value) continue;  // dominated: dearer, not better
      while (hull.size() >= 2) {
        const Choice &a = hull[hull.size() - 2], &b = hull.back();
        // b lies on or below the chord a→p: drop it.
        if ((b.value - a.value) * static_cast<double>(p.cost - a.cost) <=
            (p.value - a.value) * static_cast<double>(b.cost - a.cost))
          hull.pop_back();
        else
          break;
      }
      hull.push_back(p);
    }
    out.bits.push_back(hull[0].bits);
    out.value += hull[0].value;
    out.cost += static_cast<double>(hull[0].cost);
    for (size_t k = 1; k < hull.size(); ++k)
      segments.push_back({l, static_cast<double>(hull[k].cost - hull[k - 1].cost),
                          hull[k].value - hull[k - 1].value, hull[k - 1].bits, hull[k].bits});
  }
  std::stable_sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) {
    return a.dvalue * b.dcost > b.dvalue * a.dcost;
  });
  double room = static_cast<double>(budget) - out.cost;
  for (const Segment& s : segments) {
    if (room <= 0) break;
    const double t = s.dcost <= room ? 1.0 : room / s.dcost;
    out.bits[s.layer] = s.from_bits + t * (s.to_bits - s.from_bits);
    out.value += t * s.dvalue;
    out.cost += t * s.dcost;
    room -= t * s.dcost;
  }
  return out;
}

}  // namespace qat
