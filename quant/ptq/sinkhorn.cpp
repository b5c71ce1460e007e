#include "quant/ptq/sinkhorn.h"

#include <algorithm>
#include <cmath>

namespace qat::ptq {

namespace {

// Unbiased standard deviation of each column (torch.std's default).
Eigen::ArrayXd column_std(const Eigen::MatrixXd& c) {
  const double n = static_cast<double>(c.rows());
  const Eigen::RowVectorXd mean = c.colwise().mean();
  const Eigen::ArrayXd ss = (c.rowwise() - mean).colwise().squaredNorm().transpose().array();
  return (ss / std::max(n - 1.0, 1.0)).sqrt();
}

Eigen::ArrayXd clamped(const Eigen::ArrayXd& s) { return s.max(1e-3).min(1e3); }

}  // namespace

double imbalance(const Eigen::MatrixXd& c) {
  const Eigen::ArrayXd cols = column_std(c), rows = column_std(c.transpose());
  const double lo = std::max(std::min(cols.minCoeff(), rows.minCoeff()), 1e-12);
  return std::max(cols.maxCoeff(), rows.maxCoeff()) / lo;
}

// SINQ (Müller et al. 2025, Algorithm 1): a += log clamp(σ_col/τ, 0.7, 2), r += log clamp(σ_row/τ, 0.7, 2)
// from the same C, both clipped to [−0.3, 10]; τ is the smallest clamped σ of M.
SinkhornResult sinkhorn_log(const Eigen::MatrixXd& m, int iterations) {
  const double tau =
      std::min(clamped(column_std(m)).minCoeff(), clamped(column_std(m.transpose())).minCoeff()) + 1e-6;
  Eigen::ArrayXd a = Eigen::ArrayXd::Zero(m.cols()), r = Eigen::ArrayXd::Zero(m.rows());
  SinkhornResult out{.mu1 = Eigen::VectorXd::Ones(m.cols()),
                     .mu2 = Eigen::VectorXd::Ones(m.rows()),
                     .imbalance_before = imbalance(m),
                     .imbalance_after = imbalance(m)};
  for (int it = 0; it < iterations; ++it) {
    const Eigen::MatrixXd c = (-r).exp().matrix().asDiagonal() * m * (-a).exp().matrix().asDiagonal();
    const double ib = imbalance(c);
    if (ib > out.imbalance_after) break;
    out.imbalance_after = ib;
    out.mu1 = a.exp().matrix();
    out.mu2 = r.exp().matrix();
    out.iterations = it + 1;
    a = (a + (clamped(column_std(c)) / tau).max(0.7).min(2.0).log()).max(-0.3).min(10.0);
    r = (r + (clamped(column_std(c.transpose())) / tau).max(0.7).min(2.0).log()).max(-0.3).min(10.0);
  }
  return out;
}

}  // namespace qat::ptq
