// Linear CKA against a hand computation; invariant to orthogonal maps and scaling of the features; the
// orthogonality matrix is symmetric with a unit diagonal; OMPQ's depth-averaged scores.
#include "quant/mixed_precision/proxies/linear_cka.h"

#include <gtest/gtest.h>

#include <random>

#include "quant/mixed_precision/proxies/sensitivity_proxy.h"

namespace qat {
namespace {

using Eigen::MatrixXd;

MatrixXd random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

// n = 3, one feature each: x = (1, 2, 3), y = (1, 0, 2). Centered: x̃ = (−1, 0, 1), ỹ = (0, −1, 1).
// K̃_x = x̃x̃ᵀ, K̃_y = ỹỹᵀ; ⟨K̃_x, K̃_y⟩ = (x̃·ỹ)² = 1, ‖K̃_x‖ = ‖x̃‖² = 2, ‖K̃_y‖ = 2: CKA = 1/4.
TEST(LinearCka, HandComputation) {
  MatrixXd x(3, 1), y(3, 1);
  x << 1, 2, 3;
  y << 1, 0, 2;
  EXPECT_NEAR(linear_cka(x, y), 0.25, 1e-12);
  MatrixXd expected_gram(3, 3);
  expected_gram << 1, 0, -1, 0, 0, 0, -1, 0, 1;
  EXPECT_LT((centered_gram(x) - expected_gram).norm(), 1e-12);
}

TEST(LinearCka, InvariantToOrthogonalMapsAndScale) {
  const MatrixXd x = random_matrix(16, 6, 1), y = random_matrix(16, 9, 2);
  const MatrixXd q = Eigen::HouseholderQR<MatrixXd>(random_matrix(6, 6, 3)).householderQ();
  const double base = linear_cka(x, y);
  EXPECT_GT(base, 0.0);
  EXPECT_LT(base, 1.0);
  EXPECT_NEAR(linear_cka(x * q, y), base, 1e-12);
  EXPECT_NEAR(linear_cka(3.5 * x, 0.2 * y), base, 1e-12);
  EXPECT_NEAR(linear_cka(x, x * q * 2.0), 1.0, 1e-12);
}

TEST(LinearCka, OrthogonalityMatrix) {
  const std::vector<MatrixXd> features{random_matrix(8, 5, 4), random_matrix(8, 3, 5),
                                       random_matrix(8, 7, 6)};
  const MatrixXd orm = orthogonality_matrix(features);
  for (int i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(orm(i, i), 1.0);
    for (int j = 0; j < 3; ++j) {
      EXPECT_DOUBLE_EQ(orm(i, j), orm(j, i));
      if (i != j) {
        EXPECT_NEAR(orm(i, j), linear_cka(features[i], features[j]), 1e-12);
      }
    }
  }
}

// γ = (0.5, 0.7, 0.8) with β = 1: θ_l = exp(−γ_l), s_l = mean of θ over layers l..L−1.
TEST(OmpqScores, DepthAveragedExponentials) {
  MatrixXd orm(3, 3);
  orm << 1, 0.2, 0.3, 0.2, 1, 0.5, 0.3, 0.5, 1;
  const std::vector<double> s = ompq_scores(orm, 1.0);
  const double t0 = std::exp(-0.5), t1 = std::exp(-0.7), t2 = std::exp(-0.8);
  EXPECT_NEAR(s[2], t2, 1e-12);
  EXPECT_NEAR(s[1], (t1 + t2) / 2, 1e-12);
  EXPECT_NEAR(s[0], (t0 + t1 + t2) / 3, 1e-12);
  const std::vector<double> flat = ompq_scores(orm, 0.0);  // β = 0: every θ is 1
  for (const double v : flat) EXPECT_DOUBLE_EQ(v, 1.0);
}

}  // namespace
}  // namespace qat
