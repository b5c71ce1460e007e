// Kendall's τ-b and Spearman's ρ against hand-computed cases with ties, and the bootstrap's determinism.
#include "quant/mixed_precision/rank_correlation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/test_util.h"

namespace qat {
namespace {

TEST(RankCorrelation, KendallTauBWithTies) {
  EXPECT_DOUBLE_EQ(kendall_tau_b({1, 2, 3, 4, 5}, {2, 4, 6, 8, 10}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}), -1.0);
  // Pairs: 5 concordant, 1 tied in x only; τ-b = 5/√(5·6).
  EXPECT_NEAR(kendall_tau_b({1, 2, 2, 3}, {1, 3, 2, 4}), 5.0 / std::sqrt(30.0), 1e-12);
  // 3 concordant, 1 discordant, one pair tied in x, another tied in y: (3 − 1)/√(5·5).
  EXPECT_NEAR(kendall_tau_b({1, 1, 2, 3}, {2, 1, 1, 3}), 0.4, 1e-12);
  EXPECT_DOUBLE_EQ(kendall_tau_b({1, 1, 1}, {1, 2, 3}), 0.0);  // one side constant
  EXPECT_NE(test::error_of([] { kendall_tau_b({1, 2}, {1}); }).find("2 scores against 1"), std::string::npos);
}

TEST(RankCorrelation, SpearmanWithTies) {
  EXPECT_EQ(average_ranks({3, 1, 3, 2}), (std::vector<double>{3.5, 1, 3.5, 2}));
  // Ranks [1, 2.5, 2.5, 4] against [1, 3, 2, 4]: 4.5/√(4.5·5).
  EXPECT_NEAR(spearman_rho({1, 2, 2, 3}, {1, 3, 2, 4}), 4.5 / std::sqrt(22.5), 1e-12);
  EXPECT_NEAR(spearman_rho({1, 2, 3, 4}, {1, 4, 9, 16}), 1.0, 1e-12);  // monotone, not linear
  EXPECT_NEAR(spearman_rho({1, 2, 3}, {3, 2, 1}), -1.0, 1e-12);
  EXPECT_DOUBLE_EQ(spearman_rho({2, 2, 2}, {1, 2, 3}), 0.0);
}

TEST(RankCorrelation, BootstrapIsSeededAndBracketsTheEstimate) {
  std::vector<double> x, y;
  for (int i = 0; i < 40; ++i) {
    x.push_back(i);
    y.push_back(i + 15.0 * std::sin(i * 1.7));  // noisy, positively related
  }
  const Interval a = bootstrap_interval(x, y, kendall_tau_b, 200, 7);
  const Interval b = bootstrap_interval(x, y, kendall_tau_b, 200, 7);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  const double tau = kendall_tau_b(x, y);
  EXPECT_LT(a.low, tau);
  EXPECT_GT(a.high, tau);
  EXPECT_GT(a.low, 0.0);
  const Interval perfect = bootstrap_interval(x, x, spearman_rho, 50, 1);
  EXPECT_NEAR(perfect.low, 1.0, 1e-12);
}

}  // namespace
}  // namespace qat
