#include "quant/ptq/optq.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "engine/error.h"

namespace qat::ptq {

Eigen::MatrixXd inverse_cholesky_upper(const Eigen::MatrixXd& h) {
  const Eigen::LLT<Eigen::MatrixXd> llt(h);
  QAT_CHECK(llt.info() == Eigen::Success, "OPTQ: H is not positive definite (fix it first)");
  const Eigen::LLT<Eigen::MatrixXd> inv(llt.solve(Eigen::MatrixXd::Identity(h.rows(), h.cols())));
  QAT_CHECK(inv.info() == Eigen::Success, "OPTQ: H⁻¹ is not positive definite");
  return inv.matrixU();
}

// Frantar et al. 2023, Algorithm 1: e = (w_i − q_i)/U_ii updates the rest of the block at once and the
// columns after it once per block.
Eigen::VectorXd optq_feedback(Eigen::MatrixXd w, const Eigen::MatrixXd& u, int64_t block_size,
                              const ColumnRounder& round) {
  const int64_t d = w.cols();
  QAT_CHECK(block_size > 0 && u.rows() == d && u.cols() == d, "OPTQ: factor ", u.rows(), "×", u.cols(),
            " for ", d, " columns, block size ", block_size);
  Eigen::VectorXd loss(d);
  for (int64_t i1 = 0; i1 < d; i1 += block_size) {
    const int64_t i2 = std::min(i1 + block_size, d);
    Eigen::MatrixXd err(w.rows(), i2 - i1);
    for (int64_t i = i1; i < i2; ++i) {
      const Eigen::VectorXd diff = w.col(i) - round(i, w);
      const double uii = u(i, i);
      loss(i) = 0.5 * diff.squaredNorm() / (uii * uii);
      err.col(i - i1) = diff / uii;
      w.middleCols(i + 1, i2 - i - 1).noalias() -= err.col(i - i1) * u.row(i).segment(i + 1, i2 - i - 1);
    }
    w.rightCols(d - i2).noalias() -= err * u.block(i1, i2, i2 - i1, d - i2);
  }
  return loss;
}

namespace {

// Column order: by decreasing diag(H) with act_order ("act-order" of the GPTQ repository), else identity.
std::vector<int64_t> column_order(const Eigen::MatrixXd& h, bool act_order) {
  std::vector<int64_t> perm(h.cols());
  std::iota(perm.begin(), perm.end(), 0);
  if (act_order)
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return h(a, a) > h(b, b); });
  return perm;
}

// Grids fitted before the loop on the original columns: one per row, or one per group with act_order.
std::vector<AffineGrid> static_grids(const Eigen::MatrixXd& w, const OptqOptions& o, int64_t group_size) {
  std::vector<AffineGrid> grids;
  if (o.group_size <= 0) return {fit_grid(w, o.grid, o.bits)};
  if (!o.act_order) return grids;
  for (int64_t g0 = 0; g0 < w.cols(); g0 += group_size)
    grids.push_back(fit_grid(w.middleCols(g0, std::min(group_size, w.cols() - g0)), o.grid, o.bits));
  return grids;
}

}  // namespace

OptqResult optq_quantize(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const OptqOptions& options) {
  const int64_t d = w.cols();
  QAT_CHECK(h.rows() == d && h.cols() == d, "OPTQ: H is ", h.rows(), "×", h.cols(), " for ", d, " columns");
  const std::vector<int64_t> perm = column_order(h, options.act_order);
  Eigen::MatrixXd wp(w.rows(), d), hp(d, d);
  for (int64_t i = 0; i < d; ++i) wp.col(i) = w.col(perm[i]);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t k = 0; k < d; ++k) hp(i, k) = h(perm[i], perm[k]);
  OptqResult out{.codes = GridCodes(w.rows(), d, options.group_size), .column_loss = Eigen::VectorXd(d)};
  const int64_t g = out.codes.group_size;
  const std::vector<AffineGrid> grids = static_grids(w, options, g);
  std::optional<AffineGrid> current;
  const ColumnRounder round = [&](int64_t i, const Eigen::MatrixXd& work) {
    const int64_t j = perm[i];
    if (grids.empty() && i % g == 0)  // groups in order: fit on the group as it stands
      current = fit_grid(work.middleCols(i, std::min(g, d - i)), options.grid, options.bits);
    const AffineGrid& grid = grids.empty() ? *current : grids[grids.size() == 1 ? 0 : j / g];
    out.codes.set_column(j, grid, grid.codes(work.col(i)));
    return out.codes.column(j);
  };
  const Eigen::VectorXd loss = optq_feedback(wp, inverse_cholesky_upper(hp), options.block_size, round);
  for (int64_t i = 0; i < d; ++i) out.column_loss(perm[i]) = loss(i);
  return out;
}

}  // namespace qat::ptq
