#pragma once
// Log-domain Sinkhorn normalisation of a weight tile (huawei-csl/SINQ:sinq/sinkhorn.py:sinkhorn_log): column
// and row scales μ1, μ2 that balance the tile's row and column standard deviations.
#include <Eigen/Dense>

namespace qat::ptq {

/// The scales with the lowest imbalance seen.
struct SinkhornResult {
  Eigen::VectorXd mu1;            ///< per column: the tile is divided by it column-wise
  Eigen::VectorXd mu2;            ///< per row: the tile is divided by it row-wise
  double imbalance_before = 0.0;  ///< I(M)
  double imbalance_after = 0.0;   ///< I(M ⊘ μ1 ⊘ μ2), the best seen
  int iterations = 0;             ///< steps that kept improving
};

/// I(C) = max/min over all row and column standard deviations of C (the minimum floored at 1e-12).
double imbalance(const Eigen::MatrixXd& c);

/// Up to `iterations` log-domain steps on `m`, stopping when the imbalance rises (PTQ.md, "SINQ" step 3).
SinkhornResult sinkhorn_log(const Eigen::MatrixXd& m, int iterations);

}  // namespace qat::ptq
