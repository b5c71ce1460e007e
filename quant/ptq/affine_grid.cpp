#include "quant/ptq/affine_grid.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace qat::ptq {

GridKind parse_grid_kind(const std::string& name) {
  if (name == "asym0") return GridKind::asym0;
  if (name == "asym") return GridKind::asym;
  if (name == "sym") return GridKind::sym;
  if (name == "quip") return GridKind::quip;
  detail::fail("unknown grid '", name, "' (asym0, asym, sym, quip)");
}

double AffineGrid::code(int64_t r, double w, double eta) const {
  return std::clamp(std::floor(w / step(r) + zero(r) + eta), 0.0, static_cast<double>(maxq));
}

Eigen::VectorXi AffineGrid::codes(const Eigen::Ref<const Eigen::VectorXd>& w) const {
  Eigen::VectorXi q(w.size());
  for (Eigen::Index r = 0; r < w.size(); ++r) q(r) = static_cast<int>(code(r, w(r)));
  return q;
}

namespace {

// OPTQ's "qfn a" (Cornell-RelaxML/QuIP:quant.py:find_params_qfna): the range always covers 0.
void fit_asym0(double lo, double hi, double maxq, double& step, double& zero) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (lo == 0.0 && hi == 0.0) lo = -1.0, hi = 1.0;
  step = (hi - lo) / maxq;
  zero = std::nearbyint(-lo / step);
}

// huawei-csl/SINQ:sinq/dual_shift.py: the row's own range, a floor on its width.
void fit_asym(double lo, double hi, double maxq, double& step, double& zero) {
  step = std::max(hi - lo, 1e-4) / maxq;
  zero = -std::nearbyint(lo / step);
}

// Symmetric around the middle code 2^(b−1).
void fit_sym(double lo, double hi, double maxq, double& step, double& zero) {
  double a = std::max(std::abs(lo), std::abs(hi));
  if (a == 0.0) a = 1.0;
  step = 2.0 * a / maxq;
  zero = (maxq + 1.0) / 2.0;
}

}  // namespace

AffineGrid fit_grid(const Eigen::Ref<const Eigen::MatrixXd>& w, GridKind kind, int bits) {
  QAT_CHECK(bits >= 1 && bits <= 16, "fit_grid: bits ", bits, " outside 1..16");
  const Eigen::Index rows = w.rows();
  AffineGrid grid{
      .step = Eigen::VectorXd(rows), .zero = Eigen::VectorXd(rows), .maxq = (int64_t{1} << bits) - 1};
  const auto maxq = static_cast<double>(grid.maxq);
  if (kind == GridKind::quip) {
    // QuIP's "qfn b": levels s·(2k/maxq − 1) with s = 2.4·RMS(W) (Cornell-RelaxML/QuIP:quant.py).
    const double s =
        2.4 * std::sqrt(w.squaredNorm() / static_cast<double>(std::max<Eigen::Index>(w.size(), 1))) + 1e-16;
    grid.step.setConstant(2.0 * s / maxq);
    grid.zero.setConstant(maxq / 2.0);
    return grid;
  }
  // Row ranges column by column: contiguous and vectorised in the column-major w, unlike row(r).minCoeff().
  const Eigen::VectorXd lo = w.rowwise().minCoeff(), hi = w.rowwise().maxCoeff();
  for (Eigen::Index r = 0; r < rows; ++r) {
    if (kind == GridKind::asym0) fit_asym0(lo(r), hi(r), maxq, grid.step(r), grid.zero(r));
    if (kind == GridKind::asym) fit_asym(lo(r), hi(r), maxq, grid.step(r), grid.zero(r));
    if (kind == GridKind::sym) fit_sym(lo(r), hi(r), maxq, grid.step(r), grid.zero(r));
  }
  return grid;
}

GridCodes::GridCodes(int64_t rows, int64_t cols, int64_t group_size_)
    : codes(Eigen::MatrixXi::Zero(rows, cols)),
      group_size(group_size_ > 0 ? group_size_ : std::max<int64_t>(cols, 1)) {
  const int64_t g = (cols + group_size - 1) / group_size;
  step = Eigen::MatrixXd::Ones(rows, g);
  zero = Eigen::MatrixXd::Zero(rows, g);
}

void GridCodes::set_column(int64_t j, const AffineGrid& grid,
                           const Eigen::Ref<const Eigen::VectorXi>& column_codes) {
  step.col(j / group_size) = grid.step;
  zero.col(j / group_size) = grid.zero;
  codes.col(j) = column_codes;
}

Eigen::VectorXd GridCodes::column(int64_t j) const {
  const int64_t g = j / group_size;
  return step.col(g).cwiseProduct(codes.col(j).cast<double>() - zero.col(g));
}

Eigen::MatrixXd GridCodes::dequantize() const {
  Eigen::MatrixXd w(codes.rows(), codes.cols());
  for (Eigen::Index j = 0; j < codes.cols(); ++j) w.col(j) = column(j);
  return w;
}

}  // namespace qat::ptq
