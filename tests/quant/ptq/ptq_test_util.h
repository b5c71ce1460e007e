#pragma once
// Random weights and proxy Hessians shared by the post-training quantizer tests.
#include <Eigen/Dense>
#include <cmath>
#include <random>

namespace qat::test {

/// An m×n matrix of N(0, 1) values.
inline Eigen::MatrixXd gaussian(int64_t m, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  return Eigen::MatrixXd::NullaryExpr(m, n, [&]() { return normal(rng); });
}

/// XᵀX/N of N correlated rows (a random mixing of i.i.d. inputs), the way calibration builds H.
inline Eigen::MatrixXd sample_hessian(int64_t d, int64_t samples, uint64_t seed) {
  const Eigen::MatrixXd x = gaussian(samples, d, seed) * gaussian(d, d, seed + 1000);
  return x.transpose() * x / static_cast<double>(samples);
}

/// H of GELU outputs whose pre-activations have rank `rank` and scale `scale` (an FFN's second linear):
/// small pre-activations leave GELU nearly linear, so H is ill-conditioned and nearly rank-deficient.
inline Eigen::MatrixXd gelu_hessian(int64_t d, int64_t samples, int64_t rank, double scale, uint64_t seed) {
  const Eigen::MatrixXd z = gaussian(samples, rank, seed) * gaussian(rank, d, seed + 1000) * scale;
  const Eigen::MatrixXd x =
      z.unaryExpr([](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); });
  return x.transpose() * x / static_cast<double>(samples);
}

/// Q·diag(λ)·Qᵀ with λ log-spaced from 1 down to 1/condition and a Haar-like random Q.
inline Eigen::MatrixXd conditioned_hessian(int64_t d, double condition, uint64_t seed) {
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian(d, d, seed));
  const Eigen::MatrixXd q = qr.householderQ();
  Eigen::VectorXd lambda(d);
  for (int64_t i = 0; i < d; ++i) lambda(i) = std::pow(condition, -static_cast<double>(i) / (d - 1));
  return q * lambda.asDiagonal() * q.transpose();
}

}  // namespace qat::test
