#include "quant/ptq/ldlq.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "engine/error.h"

namespace qat::ptq {

namespace {

// Values in the code domain: x = w/step + zero; the feedback is linear in it, the clamp comes with rounding.
Eigen::MatrixXd to_code_domain(const Eigen::MatrixXd& w, const AffineGrid& grid) {
  return (grid.step.cwiseInverse().asDiagonal() * w).colwise() + grid.zero;
}

// η per element: ½ for nearest rounding, U[0, 1) for unbiased rounding.
Eigen::MatrixXd rounding_offsets(int64_t rows, int64_t cols, const LdlqOptions& o) {
  if (!o.unbiased) return Eigen::MatrixXd::Constant(rows, cols, 0.5);
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  return Eigen::MatrixXd::NullaryExpr(rows, cols, [&]() { return u(rng); });
}

// x̂_i = clamp(⌊x_i + (X − X̂)_{:,i+1:}·L̃_{i+1:,i} + η_i⌋), i = d−1…0, L̃ = L·diag(L)⁻¹ − I, in lazy blocks.
Eigen::MatrixXd ldl_pass(const Eigen::MatrixXd& x, const Eigen::MatrixXd& h, double maxq,
                         const LdlqOptions& o) {
  const int64_t d = x.cols();
  const Eigen::LLT<Eigen::MatrixXd> llt(h);
  QAT_CHECK(llt.info() == Eigen::Success, "LDLQ: H is not positive definite (fix it first)");
  const Eigen::MatrixXd l = llt.matrixL();
  const Eigen::MatrixXd lt = l * l.diagonal().cwiseInverse().asDiagonal() - Eigen::MatrixXd::Identity(d, d);
  const Eigen::MatrixXd eta = rounding_offsets(x.rows(), d, o);
  Eigen::MatrixXd err = Eigen::MatrixXd::Zero(x.rows(), d), xhat(x.rows(), d);
  for (int64_t i2 = d; i2 > 0; i2 -= o.block_size) {
    const int64_t i1 = std::max<int64_t>(i2 - o.block_size, 0);
    const Eigen::MatrixXd later = err.rightCols(d - i2) * lt.block(i2, i1, d - i2, i2 - i1);
    for (int64_t i = i2 - 1; i >= i1; --i) {
      const Eigen::VectorXd fb =
          later.col(i - i1) + err.middleCols(i + 1, i2 - i - 1) * lt.col(i).segment(i + 1, i2 - i - 1);
      xhat.col(i) = (x.col(i) + fb + eta.col(i)).array().floor().cwiseMax(0.0).cwiseMin(maxq);
      err.col(i) = x.col(i) - xhat.col(i);
    }
  }
  return xhat;
}

// Coordinate descent on tr(ΔX H ΔXᵀ): x̂_i ← clamp(round(x_i − Σ_{k≠i} (x̂_k − x_k)·H_ki/H_ii)), i = d−1…0,
// until nothing changes (Cornell-RelaxML/QuIP:vector_balance.py:round_ldl, greedy passes).
void greedy_passes(const Eigen::MatrixXd& x, const Eigen::MatrixXd& h, double maxq, int passes,
                   Eigen::MatrixXd& xhat) {
  Eigen::MatrixXd s = xhat - x;
  for (int pass = 0; pass < passes; ++pass) {
    bool changed = false;
    for (int64_t i = x.cols() - 1; i >= 0; --i) {
      const Eigen::VectorXd target = xhat.col(i) - s * h.col(i) / h(i, i);
      const Eigen::VectorXd next = target.array().round().cwiseMax(0.0).cwiseMin(maxq);
      changed = changed || next != xhat.col(i);
      xhat.col(i) = next;
      s.col(i) = next - x.col(i);
    }
    if (!changed) return;
  }
}

}  // namespace

Eigen::MatrixXi ldlq_round(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const AffineGrid& grid,
                           const LdlqOptions& options) {
  const int64_t d = w.cols();
  QAT_CHECK(h.rows() == d && h.cols() == d && grid.step.size() == w.rows() && options.block_size > 0,
            "LDLQ: H is ", h.rows(), "×", h.cols(), " for ", w.rows(), "×", d, " weights, ", grid.step.size(),
            " row grids, block size ", options.block_size);
  QAT_CHECK(!options.unbiased || options.greedy_passes == 0, "LDLQ: greedy passes need nearest rounding");
  // With greedy passes, columns by increasing diag(H), so the largest ones are rounded first (ldlqRG).
  std::vector<int64_t> perm(d);
  std::iota(perm.begin(), perm.end(), 0);
  if (options.greedy_passes > 0)
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return h(a, a) < h(b, b); });
  const Eigen::PermutationMatrix<Eigen::Dynamic> p(
      Eigen::Map<const Eigen::Matrix<int64_t, -1, 1>>(perm.data(), d).cast<int>());
  const Eigen::MatrixXd x = to_code_domain(w, grid) * p;
  const Eigen::MatrixXd hp = p.transpose() * h * p;
  const auto maxq = static_cast<double>(grid.maxq);
  Eigen::MatrixXd xhat = ldl_pass(x, hp, maxq, options);
  greedy_passes(x, hp, maxq, options.greedy_passes, xhat);
  return (xhat * p.transpose()).cast<int>();
}

}  // namespace qat::ptq
