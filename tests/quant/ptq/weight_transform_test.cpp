#include "quant/ptq/weight_transform.h"

#include <gtest/gtest.h>

#include "quant/ptq/fast_walsh_hadamard.h"
#include "quant/ptq/quip.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

// Sylvester's H_{2n} = [[H_n, H_n], [H_n, −H_n]] built densely.
Eigen::MatrixXd sylvester(int64_t n) {
  Eigen::MatrixXd h = Eigen::MatrixXd::Ones(1, 1);
  for (int64_t size = 1; size < n; size *= 2) {
    Eigen::MatrixXd next(2 * size, 2 * size);
    next << h, h, h, -h;
    h = next;
  }
  return h;
}

Eigen::MatrixXd dense(const WeightTransform& t) {
  Eigen::MatrixXd q = Eigen::MatrixXd::Identity(t.n, t.n);
  apply_transform(t, q);
  return q;
}

TEST(PtqHadamard, FastTransformIsTheDenseMatrixWithNLogNOperations) {
  for (int64_t n = 1, log2n = 0; n <= 512; n *= 2, ++log2n) {
    const Eigen::MatrixXd h = sylvester(n);
    Eigen::MatrixXd x = test::gaussian(n, 3, n);
    const Eigen::MatrixXd x0 = x, expected = h * x;
    for (Eigen::Index j = 0; j < x.cols(); ++j) EXPECT_EQ(fast_walsh_hadamard(x.col(j).data(), n), n * log2n);
    EXPECT_LT((x - expected).cwiseAbs().maxCoeff(), 1e-6) << "n = " << n;
    EXPECT_LT((h * h.transpose() - n * Eigen::MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_NEAR(x.norm(), std::sqrt(static_cast<double>(n)) * x0.norm(), 1e-9 * x.norm());
  }
}

TEST(PtqHadamard, RandomizedBlocksAreOrthogonalAndStructured) {
  const WeightTransform t = hadamard_transform(768, 3);  // 3 blocks of 256
  ASSERT_EQ(t.kind, WeightTransform::Kind::hadamard);
  EXPECT_EQ(t.p, 3);
  EXPECT_EQ(t.q, 256);
  const Eigen::MatrixXd q = dense(t);
  EXPECT_LT((q.transpose() * q - Eigen::MatrixXd::Identity(768, 768)).cwiseAbs().maxCoeff(), 1e-10);
  Eigen::MatrixXd signs = Eigen::MatrixXd::Zero(768, 768);
  for (int64_t i = 0; i < 768; ++i) signs(i, i) = t.signs[i];
  Eigen::MatrixXd blocks = Eigen::MatrixXd::Zero(768, 768);
  for (int64_t b = 0; b < 3; ++b) blocks.block(b * 256, b * 256, 256, 256) = sylvester(256) / 16.0;
  EXPECT_LT((q - blocks * signs).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_EQ(hadamard_transform(24, 3).kind, WeightTransform::Kind::kronecker);  // 2^3 < 16
}

TEST(PtqKronecker, FactorsAlternatePrimes) {
  EXPECT_EQ(butterfly_factors(768), std::make_pair(int64_t{48}, int64_t{16}));  // 2·2·2·2·3, 2·2·2·2
  EXPECT_EQ(butterfly_factors(7), std::make_pair(int64_t{7}, int64_t{1}));
  EXPECT_EQ(butterfly_factors(1), std::make_pair(int64_t{1}, int64_t{1}));
  EXPECT_EQ(butterfly_factors(90), std::make_pair(int64_t{6}, int64_t{15}));  // 2·3·3·5 → 2·3, 3·5
}

// P_out·B_q·B_p·P_in from the stored fields, as dense matrices.
Eigen::MatrixXd kronecker_dense(const WeightTransform& t) {
  const int64_t n = t.n, p = t.p, q = t.q;
  Eigen::MatrixXd pin = Eigen::MatrixXd::Zero(n, n), pout = Eigen::MatrixXd::Zero(n, n);
  for (int64_t i = 0; i < n; ++i) pin(i, t.perm_in[i]) = 1, pout(i, t.perm_out[i]) = 1;
  Eigen::MatrixXd bp = Eigen::MatrixXd::Zero(n, n), bq = Eigen::MatrixXd::Zero(n, n);
  for (int64_t b = 0; b < q; ++b)  // block b mixes indices a·q + b, a < p
    for (int64_t a = 0; a < p; ++a)
      for (int64_t c = 0; c < p; ++c) bp(a * q + b, c * q + b) = t.blocks[(b * p + a) * p + c];
  for (int64_t a = 0; a < p; ++a)  // block a mixes indices a·q + c, c < q
    for (int64_t r = 0; r < q; ++r)
      for (int64_t c = 0; c < q; ++c) bq(a * q + r, a * q + c) = t.blocks[p * p * q + (a * q + r) * q + c];
  return pout * bq * bp * pin;
}

TEST(PtqKronecker, OrthogonalAndEqualToItsDenseMatrix) {
  for (const int64_t n : {1, 7, 12, 96, 100}) {
    const WeightTransform t = kronecker_transform(n, 5);
    const Eigen::MatrixXd q = dense(t);
    EXPECT_LT((q.transpose() * q - Eigen::MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff(), 1e-10) << n;
    EXPECT_LT((q - kronecker_dense(t)).cwiseAbs().maxCoeff(), 1e-12) << n;
    Eigen::MatrixXd x = test::gaussian(n, 2, n), y = x;
    apply_transform(t, y);
    apply_transform_transpose(t, y);
    EXPECT_LT((y - x).cwiseAbs().maxCoeff(), 1e-10) << n;
  }
}

// QuIP's premise: a random orthogonal U W Vᵀ spreads planted outliers, lowering μ(W).
TEST(PtqIncoherence, TransformsLowerMuOnPlantedOutliers) {
  for (const auto kind : {WeightTransform::Kind::hadamard, WeightTransform::Kind::kronecker})
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      Eigen::MatrixXd w = test::gaussian(64, 96, seed);
      w(3, 5) = 40.0, w(60, 90) = -35.0, w(17, 17) = 30.0;
      const double before = incoherence(w);
      const bool hadamard = kind == WeightTransform::Kind::hadamard;
      const WeightTransform u = hadamard ? hadamard_transform(64, seed) : kronecker_transform(64, seed);
      const WeightTransform v =
          hadamard ? hadamard_transform(96, seed + 7) : kronecker_transform(96, seed + 7);
      apply_transform(u, w);
      Eigen::MatrixXd wt = w.transpose();
      apply_transform(v, wt);
      EXPECT_LT(incoherence(wt), 0.5 * before) << "seed " << seed << (hadamard ? " hadamard" : " kronecker");
    }
}

}  // namespace
}  // namespace qat::ptq
