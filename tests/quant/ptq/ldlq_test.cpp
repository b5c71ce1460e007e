#include "quant/ptq/ldlq.h"

#include <gtest/gtest.h>

#include "quant/ptq/hessian_fix.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

double loss_of(const Eigen::MatrixXi& codes, const AffineGrid& grid, const Eigen::MatrixXd& w,
               const Eigen::MatrixXd& h) {
  const Eigen::MatrixXd values = grid.step.asDiagonal() * (codes.cast<double>().colwise() - grid.zero);
  return proxy_loss(w - values, h);
}

TEST(PtqLdlq, BlockSizeDoesNotChangeCodes) {
  Eigen::MatrixXd w = test::gaussian(16, 70, 1);
  const FixedHessian h = fix_hessian(test::sample_hessian(70, 200, 2), w, 0.01);
  const AffineGrid grid = fit_grid(w, GridKind::quip, 2);
  EXPECT_EQ(ldlq_round(w, h.h, grid, {.block_size = 1}), ldlq_round(w, h.h, grid, {.block_size = 128}));
  EXPECT_EQ(ldlq_round(w, h.h, grid, {.block_size = 9}), ldlq_round(w, h.h, grid, {.block_size = 128}));
}

// Each greedy update minimises the loss over one code with the others fixed, so it never increases it.
TEST(PtqLdlq, GreedyPassesDoNotIncreaseTheLoss) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Eigen::MatrixXd w = test::gaussian(16, 48, 30 + seed);
    const FixedHessian h = fix_hessian(test::sample_hessian(48, 96, 40 + seed), w, 0.01);
    const AffineGrid grid = fit_grid(w, GridKind::quip, 2);
    const double sorted = loss_of(ldlq_round(w, h.h, grid, {.greedy_passes = 1}), grid, w, h.h);
    const double greedy = loss_of(ldlq_round(w, h.h, grid, {.greedy_passes = 9}), grid, w, h.h);
    EXPECT_LE(greedy, sorted * (1 + 1e-12)) << "seed " << seed;
  }
}

// Stochastic rounding (η ~ U[0,1)) is unbiased: over many seeds the mean code of column d−1 (no feedback)
// approaches its value on the grid's scale, clamped to the codes' range.
TEST(PtqLdlq, UnbiasedRoundingHasZeroMeanOnTheFirstColumn) {
  Eigen::MatrixXd w = test::gaussian(64, 8, 5);
  const FixedHessian h = fix_hessian(test::sample_hessian(8, 32, 6), w, 0.01);
  const AffineGrid grid = fit_grid(w, GridKind::asym0, 2);
  const Eigen::VectorXd x = (w.col(7).cwiseQuotient(grid.step) + grid.zero).cwiseMax(0.0).cwiseMin(3.0);
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(64);
  const int runs = 2000;
  for (int s = 0; s < runs; ++s)
    mean +=
        ldlq_round(w, h.h, grid, {.unbiased = true, .seed = static_cast<uint64_t>(s)}).col(7).cast<double>();
  EXPECT_LT((mean / runs - x).cwiseAbs().maxCoeff(), 0.06);
}

}  // namespace
}  // namespace qat::ptq
