#include "quant/ptq/quip.h"

#include <gtest/gtest.h>

#include <vector>

#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/ldlq.h"
#include "quant/ptq/optq.h"
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

// Without transforms or rescale QuIP is LDLQ (or OPTQ) on its own grid. A Gaussian W has entries past the
// grid's ±2.4·RMS; their clipped part must reach the feedback as in LDLQ and OPTQ, not be dropped first.
TEST(PtqQuip, IdentityTransformsGiveLdlqAndOptqCodes) {
  for (const int bits : {2, 3, 4}) {
    Eigen::MatrixXd w = test::gaussian(32, 128, 7);
    const Eigen::MatrixXd h = test::gelu_hessian(128, 512, 32, 0.05, 8);
    const QuipOptions identity{.bits = bits, .incoherence = WeightTransform::Kind::none, .rescale = false};
    const QuipResult ldlq = quip_quantize(w, h, identity);
    QuipOptions by_optq = identity;
    by_optq.rounding = Rounding::optq;
    const QuipResult optq = quip_quantize(w, h, by_optq);
    const FixedHessian fixed = fix_hessian(h, w, identity.damp);
    const AffineGrid grid = fit_grid(w, GridKind::quip, bits);
    const Eigen::MatrixXi by_ldlq = ldlq_round(w, fixed.h, grid, {});
    const GridCodes by_optq_alone = optq_quantize(w, fixed.h, {.grid = GridKind::quip, .bits = bits}).codes;
    EXPECT_EQ((ldlq.codes.codes.array() != by_ldlq.array()).count(), 0) << bits << " bits";
    EXPECT_EQ((optq.codes.codes.array() != by_optq_alone.codes.array()).count(), 0) << bits << " bits";
  }
}

// On the f2 shape (4·h → h) with an ill-conditioned GELU-output H, QuIP's ℓ falls about 4× per bit as
// OPTQ's does; an error that bits cannot reduce (clipping dropped before LDLQ) left it falling 1.5×.
TEST(PtqQuip, ProxyLossFallsWithBitsOnAGeluOutputHessian) {
  const Eigen::MatrixXd w = test::gaussian(64, 256, 3);
  const Eigen::MatrixXd h = test::gelu_hessian(256, 1024, 32, 0.01, 4);
  for (const auto kind : {WeightTransform::Kind::hadamard, WeightTransform::Kind::kronecker}) {
    std::vector<double> loss;
    for (const int bits : {2, 3, 4})
      loss.push_back(proxy_loss(w - quip_quantize(w, h, {.bits = bits, .incoherence = kind}).w_hat, h));
    EXPECT_GT(loss[0] / loss[1], 2.5) << "2 → 3 bits";
    EXPECT_GT(loss[1] / loss[2], 2.5) << "3 → 4 bits";
  }
}

}  // namespace
}  // namespace qat::ptq
