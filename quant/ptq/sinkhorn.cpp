#include "quant/ptq/sinkhorn.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

// Row and column standard deviations of C = diag(row_factor)·M·diag(col_factor), from one pass over M that
// never forms C: the sums and sums of squares of every row and column, σ² = (Σc² − (Σc)²/n)/(n − 1). Sized
// once per tile, so the Sinkhorn loop allocates nothing.
struct ScaledStd {
  ScaledStd(Eigen::Index rows, Eigen::Index cols)
      : row_sum(rows), row_sq(rows), row_std(rows), col_std(cols) {}
  Eigen::ArrayXd row_sum, row_sq;   // scratch
  Eigen::ArrayXd row_std, col_std;  // of the last compute_scaled_std()
};

double std_of(double sum, double sq, double n) {
  return std::sqrt(std::max(sq - sum * sum / n, 0.0) / std::max(n - 1.0, 1.0));
}

void compute_scaled_std(const Eigen::MatrixXd& m, const Eigen::ArrayXd& row_factor,
                        const Eigen::ArrayXd& col_factor, ScaledStd& s) {
  s.row_sum.setZero();
  s.row_sq.setZero();
  const Eigen::Index rows = m.rows();
  const double* rf = row_factor.data();
  double* row_sum = s.row_sum.data();
  double* row_sq = s.row_sq.data();
  for (Eigen::Index j = 0; j < m.cols(); ++j) {
    const double* mj = m.col(j).data();
    const double cf = col_factor(j);
    double col_sum = 0.0, col_sq = 0.0;
    // One fused, vectorised pass per column (simd lets the two column sums be reassociated).
#pragma omp simd reduction(+ : col_sum, col_sq)
    for (Eigen::Index i = 0; i < rows; ++i) {
      const double c = mj[i] * rf[i] * cf;
      row_sum[i] += c;
      row_sq[i] += c * c;
      col_sum += c;
      col_sq += c * c;
    }
    s.col_std(j) = std_of(col_sum, col_sq, static_cast<double>(rows));
  }
  const auto n = static_cast<double>(m.cols());
  s.row_std = ((s.row_sq - s.row_sum.square() / n).max(0.0) / std::max(n - 1.0, 1.0)).sqrt();
}

// max/min over all row and column σ, the minimum floored at 1e-12 (as imbalance()).
double imbalance_of(const ScaledStd& s) {
  const double lo = std::max(std::min(s.row_std.minCoeff(), s.col_std.minCoeff()), 1e-12);
  return std::max(s.row_std.maxCoeff(), s.col_std.maxCoeff()) / lo;
}

// x += log clamp(clamp(σ, 1e-3, 1e3)/τ, 0.7, 2), then x clipped to [−0.3, 10].
void sinkhorn_step(Eigen::ArrayXd& x, const Eigen::ArrayXd& sigma, double tau) {
  x = (x + (sigma.max(1e-3).min(1e3) / tau).max(0.7).min(2.0).log()).max(-0.3).min(10.0);
}

}  // namespace

double imbalance(const Eigen::MatrixXd& c) {
  const Eigen::ArrayXd cols = column_std(c), rows = column_std(c.transpose());
  const double lo = std::max(std::min(cols.minCoeff(), rows.minCoeff()), 1e-12);
  return std::max(cols.maxCoeff(), rows.maxCoeff()) / lo;
}

// SINQ (Müller et al. 2025, Algorithm 1): a += log clamp(σ_col/τ, 0.7, 2), r += log clamp(σ_row/τ, 0.7, 2)
// from the same C, both clipped to [−0.3, 10]; τ is the smallest clamped σ of M. The loop decides on the
// one-pass σ of ScaledStd, which also give the reported imbalances (within rounding of imbalance()'s).
SinkhornResult sinkhorn_log(const Eigen::MatrixXd& m, int iterations) {
  Eigen::ArrayXd a = Eigen::ArrayXd::Zero(m.cols()), r = Eigen::ArrayXd::Zero(m.rows());
  Eigen::ArrayXd col_factor = Eigen::ArrayXd::Ones(m.cols()), row_factor = Eigen::ArrayXd::Ones(m.rows());
  ScaledStd stats(m.rows(), m.cols());
  compute_scaled_std(m, row_factor, col_factor, stats);  // C = M: also the first step's statistics
  const double tau = std::min(clamped(stats.col_std).minCoeff(), clamped(stats.row_std).minCoeff()) + 1e-6;
  SinkhornResult out{.mu1 = Eigen::VectorXd::Ones(m.cols()),
                     .mu2 = Eigen::VectorXd::Ones(m.rows()),
                     .imbalance_before = imbalance_of(stats),
                     .imbalance_after = 0.0};
  double best = std::numeric_limits<double>::infinity();
  for (int it = 0; it < iterations; ++it) {
    if (it > 0) {
      col_factor = (-a).exp();
      row_factor = (-r).exp();
      compute_scaled_std(m, row_factor, col_factor, stats);
    }
    const double ib = imbalance_of(stats);
    if (ib > best) break;
    best = ib;
    out.mu1 = a.exp().matrix();
    out.mu2 = r.exp().matrix();
    out.iterations = it + 1;
    sinkhorn_step(a, stats.col_std, tau);
    sinkhorn_step(r, stats.row_std, tau);
  }
  out.imbalance_after = out.iterations == 0 ? out.imbalance_before : best;
  return out;
}

}  // namespace qat::ptq
