#include "quant/ptq/hessian_fix.h"

#include "engine/error.h"

namespace qat::ptq {

namespace {

// Inputs that never fired carry no information: OPTQ (Cornell-RelaxML/QuIP:gptq.py) pins H_ii to 1
// and zeroes the weight column so that the factor exists and nothing is spent on them.
std::vector<int64_t> fix_dead_inputs(Eigen::MatrixXd& h, Eigen::MatrixXd& w) {
  std::vector<int64_t> dead;
  for (Eigen::Index i = 0; i < h.rows(); ++i) {
    if (h(i, i) != 0.0) continue;
    h(i, i) = 1.0;
    w.col(i).setZero();
    dead.push_back(i);
  }
  return dead;
}

}  // namespace

FixedHessian fix_hessian(Eigen::MatrixXd h, Eigen::MatrixXd& w, double damp, int max_retries) {
  QAT_CHECK(h.rows() == h.cols() && h.cols() == w.cols(), "fix_hessian: H is ", h.rows(), "×", h.cols(),
            " for a weight with ", w.cols(), " columns");
  FixedHessian out;
  out.dead = fix_dead_inputs(h, w);
  const double mean_diag = h.diagonal().mean();
  for (out.retries = 0, out.damp = damp; out.retries <= max_retries; ++out.retries, out.damp *= 10.0) {
    out.h = h;
    out.h.diagonal().array() += out.damp * mean_diag;
    out.llt.compute(out.h);
    if (out.llt.info() == Eigen::Success) return out;
  }
  detail::fail("fix_hessian: H is not positive definite even with damping ", out.damp / 10.0, " after ",
               max_retries, " retries");
}

double proxy_loss(const Eigen::MatrixXd& dw, const Eigen::MatrixXd& h) {
  return (dw * h).cwiseProduct(dw).sum();
}

}  // namespace qat::ptq
