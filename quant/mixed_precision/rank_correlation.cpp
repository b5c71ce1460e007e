#include "quant/mixed_precision/rank_correlation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "engine/random.h"

namespace qat {
namespace {

void check_pairs(const std::vector<double>& x, const std::vector<double>& y) {
  QAT_CHECK(x.size() == y.size(), "rank correlation: ", x.size(), " scores against ", y.size(), " labels");
}

int sign(double v) { return (v > 0) - (v < 0); }

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

}  // namespace

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  check_pairs(x, y);
  // O(n²) over pairs: the benchmark's halves hold a few hundred configs.
  int64_t score = 0, untied_x = 0, untied_y = 0;
  for (size_t i = 0; i < x.size(); ++i)
    for (size_t j = i + 1; j < x.size(); ++j) {
      const int sx = sign(x[i] - x[j]), sy = sign(y[i] - y[j]);
      score += static_cast<int64_t>(sx * sy);
      untied_x += sx != 0;
      untied_y += sy != 0;
    }
  if (untied_x == 0 || untied_y == 0) return 0.0;
  return static_cast<double>(score) /
         std::sqrt(static_cast<double>(untied_x) * static_cast<double>(untied_y));
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> rank(x.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    while (end < order.size() && x[order[end]] == x[order[start]]) ++end;
    const double mean_rank = 0.5 * static_cast<double>(start + end + 1);  // ranks start+1 .. end
    for (size_t k = start; k < end; ++k) rank[order[k]] = mean_rank;
    start = end;
  }
  return rank;
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  check_pairs(x, y);
  return pearson(average_ranks(x), average_ranks(y));
}

Interval bootstrap_interval(const std::vector<double>& x, const std::vector<double>& y,
                            const PairedStatistic& statistic, int resamples, uint64_t seed) {
  check_pairs(x, y);
  QAT_CHECK(!x.empty() && resamples > 0, "bootstrap: needs samples and resamples");
  Generator rng(seed);
  const auto n = static_cast<int64_t>(x.size());
  std::vector<double> values, rx(x.size()), ry(y.size());
  for (int r = 0; r < resamples; ++r) {
    for (size_t i = 0; i < x.size(); ++i) {
      const auto k = static_cast<size_t>(rng.below(n));
      rx[i] = x[k];
      ry[i] = y[k];
    }
    values.push_back(statistic(rx, ry));
  }
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    return values[static_cast<size_t>(std::lround(q * static_cast<double>(values.size() - 1)))];
  };
  return {at(0.025), at(0.975)};
}

}  // namespace qat
