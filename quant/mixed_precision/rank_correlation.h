#pragma once
// Rank correlations of a proxy's config scores against measured accuracies (MIXED_PRECISION.md, "Rank
// protocol"): Kendall's τ-b and Spearman's ρ with ties, and their seeded percentile-bootstrap intervals.
#include <cstdint>
#include <functional>
#include <vector>

namespace qat {

/// A statistic of paired samples.
using PairedStatistic = std::function<double(const std::vector<double>&, const std::vector<double>&)>;

/// Kendall's τ-b = (concordant − discordant)/√((n₀ − n₁)(n₀ − n₂)), n₁ and n₂ the pairs tied in x and in y;
/// 0 when either side is constant. Errors on unequal lengths.
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

/// Ranks 1..n, tied values sharing the mean of their ranks.
std::vector<double> average_ranks(const std::vector<double>& x);

/// Spearman's ρ: the Pearson correlation of average ranks; 0 when either side is constant.
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

/// A confidence interval.
struct Interval {
  double low = 0, high = 0;
};

/// The percentile bootstrap 95% interval of `statistic` over `resamples` resamples of the pairs (drawn
/// with replacement); deterministic for `seed`.
Interval bootstrap_interval(const std::vector<double>& x, const std::vector<double>& y,
                            const PairedStatistic& statistic, int resamples, uint64_t seed);

}  // namespace qat
