#include "quant/ptq/quip.h"

#include <gtest/gtest.h>

#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/rtn.h"
#include "tests/quant/ptq/ptq_test_util.h"

namespace qat::ptq {
namespace {

// The stored pieces rebuild the weight: Uᵀ·(step·(c − zero))·V·diag(col_scale) = w_hat, and its codes
// are on the 2^b-level grid.
TEST(PtqQuip, RecordRebuildsTheQuantizedWeight) {
  for (const auto kind : {WeightTransform::Kind::hadamard, WeightTransform::Kind::kronecker}) {
    const Eigen::MatrixXd w = test::gaussian(32, 64, 1);
    const QuipResult r = quip_quantize(w, test::sample_hessian(64, 256, 2), {.bits = 2, .incoherence = kind});
    Eigen::MatrixXd back = r.codes.dequantize();
    apply_transform_transpose(r.out, back);
    Eigen::MatrixXd back_t = back.transpose();
    apply_transform_transpose(r.in, back_t);
    EXPECT_LT((back_t.transpose() * r.col_scale.asDiagonal() - r.w_hat).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_GE(r.codes.codes.minCoeff(), 0);
    EXPECT_LE(r.codes.codes.maxCoeff(), 3);
    EXPECT_EQ(r.in.n, 64);
    EXPECT_EQ(r.out.n, 32);
  }
}

// With planted outliers, the incoherent basis needs far fewer levels per unit of spread: QuIP's ℓ at
// 2 bits is below RTN's in the original basis (per row asym0), measured with the undamped H.
TEST(PtqQuip, LowersProxyLossAgainstRtnOnPlantedOutliers) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    Eigen::MatrixXd w = test::gaussian(48, 96, seed);
    w(3, 5) = 12.0, w(40, 70) = -10.0;
    const Eigen::MatrixXd h = test::sample_hessian(96, 512, seed + 10);
    const QuipResult r = quip_quantize(w, h, {.bits = 2, .seed = seed});
    EXPECT_LT(r.incoherence_after, r.incoherence_before);
    const double quip = proxy_loss(w - r.w_hat, h);
    const double rtn = proxy_loss(w - rtn_quantize(w, GridKind::asym0, 2, 0).dequantize(), h);
    EXPECT_LT(quip, rtn) << "seed " << seed;
  }
}

}  // namespace
}  // namespace qat::ptq
