#include "quant/ptq/baq.h"

#include <gtest/gtest.h>

#include <cmath>

#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/optq.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

// Inputs of very different energy: column j of X scaled by e^{1.5 g_j}, so the column losses spread.
Eigen::MatrixXd uneven_hessian(int64_t d, uint64_t seed) {
  const Eigen::VectorXd scale = (1.5 * test::gaussian(d, 1, seed)).array().exp();
  const Eigen::MatrixXd x = test::gaussian(4 * d, d, seed + 1) * scale.asDiagonal();
  return x.transpose() * x / static_cast<double>(4 * d);
}

TEST(PtqBaq, RateWithinOneHundredthOfABitOfTheTargetWhenMatched) {
  for (const double target : {2.0, 3.0, 4.0})
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      Eigen::MatrixXd w = test::gaussian(64, 256, seed);
      const FixedHessian h = fix_hessian(uneven_hessian(256, seed + 5), w, 0.01);
      const BaqCalibration pass1 = baq_calibrate(w, h.h, static_cast<int>(target));
      const BaqResult r = baq_quantize(w, h.h, pass1.loss, {.rate = target});
      EXPECT_NEAR(baq_rate(r.levels.levels), target, 0.01) << "seed " << seed;
      // The reference allocation (no offset) lands near the target too, within 0.05 bit.
      const BaqLevels reference = baq_levels(pass1.loss, {.rate = target, .rate_match = false});
      EXPECT_EQ(reference.offset, 0.0);
      EXPECT_NEAR(baq_rate(reference.levels), target, 0.05) << "seed " << seed;
      EXPECT_GE(baq_packable_rate(r.levels.levels), baq_rate(r.levels.levels));
      EXPECT_GT(pass1.gain_th, 0.0);
      EXPECT_LT(pass1.gain_th, 1.0);
      for (Eigen::Index j = 0; j < w.cols(); ++j)
        EXPECT_LT(r.codes.codes.col(j).maxCoeff(), r.levels.levels[j]) << "column " << j;
    }
}

TEST(PtqBaq, SingleLevelColumnsAreZero) {
  Eigen::MatrixXd w = test::gaussian(16, 64, 3);
  Eigen::MatrixXd h0 = uneven_hessian(64, 4);
  h0.row(10).setZero(), h0.col(10).setZero();  // a dead input: L = 0, one level
  const FixedHessian h = fix_hessian(h0, w, 0.01);
  const BaqCalibration pass1 = baq_calibrate(w, h.h, 2);
  const BaqResult r = baq_quantize(w, h.h, pass1.loss, {.rate = 2.0});
  int single = 0;
  const Eigen::MatrixXd w_hat = r.codes.dequantize();
  for (Eigen::Index j = 0; j < w.cols(); ++j)
    if (r.levels.levels[j] == 1) {
      ++single;
      EXPECT_TRUE(w_hat.col(j).isZero()) << "column " << j;
    }
  EXPECT_EQ(r.levels.levels[10], 1);
  EXPECT_GE(single, 1);
}

// On a diagonal H, log2 n_j follows R̄ + δ + log2(L_j/GM(L))/θ up to rounding n_j to an integer.
TEST(PtqBaq, LevelsFollowReverseWaterFilling) {
  Eigen::MatrixXd w = test::gaussian(32, 128, 8);
  const Eigen::VectorXd energy = (2.0 * test::gaussian(128, 1, 9)).array().exp();
  const FixedHessian h = fix_hessian(Eigen::MatrixXd(energy.asDiagonal()), w, 0.01);
  const BaqCalibration pass1 = baq_calibrate(w, h.h, 3);
  const BaqOptions options{.rate = 3.0};
  const BaqLevels n = baq_levels(pass1.loss, options);
  const double gm = std::exp(pass1.loss.array().log().mean());
  int checked = 0;
  for (Eigen::Index j = 0; j < 128; ++j) {
    const double r = 3.0 + n.offset + std::log2(pass1.loss(j) / gm) / options.theta;
    if (r < 1.0 || r > 7.0) continue;  // clamped to 1 or 128 levels
    // |round(x) − x| ≤ ½ with x = 2^r ≥ 2: |log2 n − r| ≤ −log2(1 − 1/(2x)).
    EXPECT_NEAR(std::log2(n.levels[j]), r, -std::log2(1.0 - 0.5 / std::exp2(r)) + 1e-9) << "column " << j;
    ++checked;
  }
  EXPECT_GT(checked, 64);
}

// The first pass is OPTQ at the uniform width, with its column losses.
TEST(PtqBaq, CalibrationIsOptqsColumnLoss) {
  Eigen::MatrixXd w = test::gaussian(8, 32, 1);
  const FixedHessian h = fix_hessian(uneven_hessian(32, 2), w, 0.01);
  const OptqResult optq = optq_quantize(w, h.h, {.bits = 3, .block_size = 7});
  EXPECT_LT((baq_calibrate(w, h.h, 3).loss - optq.column_loss).cwiseAbs().maxCoeff(),
            1e-9 * optq.column_loss.sum());
}

}  // namespace
}  // namespace qat::ptq
