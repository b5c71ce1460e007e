#include "quant/ptq/optq.h"

#include <gtest/gtest.h>

#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/ldlq.h"
#include "quant/ptq/rtn.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

// round_ldl_gptqequiv (Cornell-RelaxML/QuIP:vector_balance.py): LDLQ on the column-reversed problem is
// OPTQ; the grid clamps before rounding, so both round the same values.
TEST(PtqOptq, SameCodesAsLdlqOnTheReversedProblem) {
  for (const int bits : {2, 4})
    for (const int64_t block : {1, 32}) {
      Eigen::MatrixXd w = test::gaussian(48, 96, 7 + bits);
      const FixedHessian h = fix_hessian(test::sample_hessian(96, 256, 11 + block), w, 0.01);
      const OptqResult optq =
          optq_quantize(w, h.h, {.grid = GridKind::asym0, .bits = bits, .block_size = block});
      const Eigen::MatrixXd w_rev = w.rowwise().reverse();
      const Eigen::MatrixXd h_rev = h.h.reverse();
      const Eigen::MatrixXi ldlq =
          ldlq_round(w_rev, h_rev, fit_grid(w_rev, GridKind::asym0, bits), {.block_size = block})
              .rowwise()
              .reverse();
      EXPECT_EQ(optq.codes.codes, ldlq) << bits << " bits, block " << block;
      EXPECT_NE(optq.codes.codes, rtn_quantize(w, GridKind::asym0, bits, 0).codes)
          << "feedback changed nothing";
    }
}

// Each OPTQ step is an optimal-brain-surgeon update, whose cost (w − q)²/[H_F⁻¹]_qq adds up to the
// final proxy loss: Σ_i 2·L_i = tr(ΔW H ΔWᵀ) for the H it used.
TEST(PtqOptq, ColumnLossesSumToTheProxyLoss) {
  for (const bool act_order : {false, true}) {
    Eigen::MatrixXd w = test::gaussian(24, 40, 3);
    const FixedHessian h = fix_hessian(test::sample_hessian(40, 128, 5), w, 0.01);
    const OptqResult r =
        optq_quantize(w, h.h, {.bits = 3, .group_size = 8, .block_size = 16, .act_order = act_order});
    const double loss = proxy_loss(w - r.codes.dequantize(), h.h);
    EXPECT_NEAR(2.0 * r.column_loss.sum(), loss, 1e-9 * loss) << "act_order " << act_order;
  }
}

TEST(PtqOptq, ProxyLossNotAboveRtnOnConditionedProblems) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Eigen::MatrixXd w = test::gaussian(32, 64, 100 + seed);
    const FixedHessian h = fix_hessian(test::conditioned_hessian(64, 1e3, 200 + seed), w, 0.01);
    const double optq = proxy_loss(w - optq_quantize(w, h.h, {.bits = 3}).codes.dequantize(), h.h);
    const double rtn = proxy_loss(w - rtn_quantize(w, GridKind::asym0, 3, 0).dequantize(), h.h);
    EXPECT_LE(optq, rtn) << "seed " << seed;
  }
}

TEST(PtqOptq, GroupsKeepCodesOnTheirGrids) {
  Eigen::MatrixXd w = test::gaussian(8, 50, 9);
  const FixedHessian h = fix_hessian(test::sample_hessian(50, 100, 4), w, 0.01);
  for (const bool act_order : {false, true}) {
    const OptqResult r = optq_quantize(w, h.h, {.bits = 2, .group_size = 16, .act_order = act_order});
    EXPECT_EQ(r.codes.groups(), 4);
    EXPECT_GE(r.codes.codes.minCoeff(), 0);
    EXPECT_LE(r.codes.codes.maxCoeff(), 3);
  }
}

}  // namespace
}  // namespace qat::ptq
