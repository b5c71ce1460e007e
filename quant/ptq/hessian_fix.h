#pragma once
// The repair every H-based method applies before factoring the proxy Hessian (PTQ.md, "H fix"):
// dead inputs, relative damping, and a float64 Cholesky retried with ten times the damping.
#include <Eigen/Dense>
#include <vector>

namespace qat::ptq {

/// A damped, positive definite H with its Cholesky factor.
struct FixedHessian {
  Eigen::MatrixXd h;                ///< H with dead diagonals set to 1 and the damping added
  Eigen::LLT<Eigen::MatrixXd> llt;  ///< its factor H = LLᵀ
  std::vector<int64_t> dead;        ///< inputs that were never nonzero (their weight columns zeroed)
  double damp = 0.0;                ///< relative damping that succeeded
  int retries = 0;                  ///< how often the damping was multiplied by 10
};

/// Fixes `h` for `w` (columns of dead inputs set to 0): H_ii = 0 → H_ii = 1; H += damp·mean(diag H)·I;
/// on a failed Cholesky damp ×10 up to `max_retries` times, then an error.
FixedHessian fix_hessian(Eigen::MatrixXd h, Eigen::MatrixXd& w, double damp, int max_retries = 3);

/// The proxy loss tr(ΔW H ΔWᵀ) of a weight error ΔW.
double proxy_loss(const Eigen::MatrixXd& dw, const Eigen::MatrixXd& h);

}  // namespace qat::ptq
