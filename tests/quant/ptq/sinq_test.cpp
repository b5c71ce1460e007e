#include "quant/ptq/sinq.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "quant/ptq/rtn.h"
#include "quant/ptq/sinkhorn.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

// A weight with planted row and column scale outliers: diag(r)·G·diag(c), log-normal r and c.
Eigen::MatrixXd scaled_outliers(int64_t m, int64_t n, uint64_t seed) {
  const Eigen::VectorXd r = (0.8 * test::gaussian(m, 1, seed + 1)).array().exp();
  const Eigen::VectorXd c = (0.8 * test::gaussian(n, 1, seed + 2)).array().exp();
  return r.asDiagonal() * test::gaussian(m, n, seed) * c.asDiagonal();
}

// The imbalance of the scales returned after k steps, recomputed from them, never rises with k.
TEST(PtqSinkhorn, BestImbalanceNeverIncreases) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const Eigen::MatrixXd m = scaled_outliers(32, 64, seed);
    double previous = imbalance(m);
    for (int k = 0; k <= 16; ++k) {
      const SinkhornResult s = sinkhorn_log(m, k);
      const double now = imbalance(s.mu2.cwiseInverse().asDiagonal() * m * s.mu1.cwiseInverse().asDiagonal());
      EXPECT_NEAR(now, s.imbalance_after, 1e-9 * now);
      EXPECT_LE(now, previous * (1 + 1e-12)) << "seed " << seed << ", " << k << " iterations";
      previous = now;
    }
    EXPECT_LT(previous, 0.8 * imbalance(m)) << "seed " << seed;
  }
}

TEST(PtqSinq, TileWidthDividesWhenItCan) {
  EXPECT_EQ(sinq_tile_width(256, 64), 64);
  EXPECT_EQ(sinq_tile_width(96, 64), 32);
  EXPECT_EQ(sinq_tile_width(48, 64), 16);
  EXPECT_EQ(sinq_tile_width(100, 64), 64);  // no width from 64 down to 16 divides 100
}

// SINQ reads the weight alone: its only inputs are the weight and the options.
static_assert(
    std::is_same_v<decltype(&sinq_quantize), SinqResult (*)(const Eigen::MatrixXd&, const SinqOptions&)>);

TEST(PtqSinq, DualScalesLowerTheErrorOnScaleOutliers) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const Eigen::MatrixXd w = scaled_outliers(64, 128, seed);
    const SinqResult r = sinq_quantize(w, {.bits = 3, .kurtosis_gate = 0.0});
    ASSERT_FALSE(r.gated);
    EXPECT_LT(r.imbalance_after, r.imbalance_before);
    const double sinq = (w - r.dequantize()).norm();
    const double rtn = (w - rtn_quantize(w, GridKind::asym, 3, 64).dequantize()).norm();
    EXPECT_LT(sinq, rtn) << "seed " << seed;
  }
}

TEST(PtqSinq, GateGivesRtnOnAHeavyTailedWeight) {
  const Eigen::MatrixXd w = test::gaussian(32, 64, 4).array().cube();  // kurtosis of g³ is about 41
  const SinqResult r = sinq_quantize(w, {.bits = 3});
  EXPECT_GT(r.kurtosis, 5.0);
  ASSERT_TRUE(r.gated);
  EXPECT_EQ(r.codes.codes, rtn_quantize(w, GridKind::asym, 3, 64).codes);
  EXPECT_EQ(r.dequantize(), rtn_quantize(w, GridKind::asym, 3, 64).dequantize());
  EXPECT_FALSE(sinq_quantize(test::gaussian(32, 64, 4), {.bits = 3}).gated);  // Gaussian: kurtosis ≈ 3
}

TEST(PtqSinq, NoSinkhornStepsIsRtnOnTheSameTiles) {
  const Eigen::MatrixXd w = scaled_outliers(16, 96, 9);
  const SinqResult r = sinq_quantize(w, {.bits = 4, .iterations = 0, .kurtosis_gate = 0.0});
  EXPECT_EQ(r.codes.codes, rtn_quantize(w, GridKind::asym, 4, 32).codes);
}

}  // namespace
}  // namespace qat::ptq
