#include "quant/ptq/baq.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "quant/ptq/optq.h"

namespace qat::ptq {

namespace {

// Geometric and arithmetic means over the positive entries.
std::pair<double, double> positive_means(const Eigen::VectorXd& v) {
  double log_sum = 0.0, sum = 0.0;
  int64_t count = 0;
  for (const double x : v)
    if (x > 0.0) log_sum += std::log(x), sum += x, ++count;
  QAT_CHECK(count > 0, "BAQ: every column loss is 0");
  return {std::exp(log_sum / count), sum / count};
}

std::vector<int32_t> levels_at(const Eigen::VectorXd& loss, double gm, double bits, const BaqOptions& o) {
  std::vector<int32_t> n;
  for (const double l : loss) {
    const double two_r = std::max(1.0, std::pow(l / gm, 1.0 / o.theta) * std::exp2(bits));
    n.push_back(static_cast<int32_t>(std::min<double>(std::nearbyint(two_r), o.max_levels)));
  }
  return n;
}

// Column j's grid: n_j levels over each row's range [lo_r, hi_r] (quant_baq.py); one level is the zero
// column.
AffineGrid column_grid(const Eigen::VectorXd& lo, const Eigen::VectorXd& hi, int32_t levels) {
  AffineGrid g{
      .step = Eigen::VectorXd::Ones(lo.size()), .zero = Eigen::VectorXd::Zero(lo.size()), .maxq = levels - 1};
  if (levels == 1) return g;
  g.step = (hi - lo) / (levels - 1);
  g.zero = (-lo.cwiseQuotient(g.step)).unaryExpr([](double z) { return std::nearbyint(z); });
  return g;
}

}  // namespace

BaqCalibration baq_calibrate(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, int bits) {
  const OptqResult r = optq_quantize(w, h, {.grid = GridKind::asym0, .bits = bits, .block_size = 1});
  const auto [gm, am] = positive_means(r.column_loss);
  return {.loss = r.column_loss, .gain_th = gm / am};
}

double baq_rate(const std::vector<int32_t>& levels) {
  double sum = 0.0;
  for (const int32_t n : levels) sum += std::log2(static_cast<double>(n));
  return sum / static_cast<double>(levels.size());
}

double baq_packable_rate(const std::vector<int32_t>& levels) {
  double sum = 0.0;
  for (const int32_t n : levels) sum += std::ceil(std::log2(static_cast<double>(n)));
  return sum / static_cast<double>(levels.size());
}

// The rate rises with the offset in steps, so bisection brackets the target and keeps the closest rate.
BaqLevels baq_levels(const Eigen::VectorXd& loss, const BaqOptions& options) {
  const double gm = positive_means(loss).first;
  BaqLevels best{.levels = levels_at(loss, gm, options.rate, options), .offset = 0.0};
  if (!options.rate_match) return best;
  double lo = -options.rate - 16.0, hi = 16.0;
  for (int it = 0; it < 64 && std::abs(baq_rate(best.levels) - options.rate) > 0.01; ++it) {
    const double mid = 0.5 * (lo + hi);
    std::vector<int32_t> n = levels_at(loss, gm, options.rate + mid, options);
    const double rate = baq_rate(n);
    (rate < options.rate ? lo : hi) = mid;
    if (std::abs(rate - options.rate) < std::abs(baq_rate(best.levels) - options.rate))
      best = {std::move(n), mid};
  }
  return best;
}

BaqResult baq_quantize(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const Eigen::VectorXd& pass1_loss,
                       const BaqOptions& options) {
  QAT_CHECK(pass1_loss.size() == w.cols(), "BAQ: ", pass1_loss.size(), " pass-1 losses for ", w.cols(),
            " columns");
  BaqResult out{.codes = GridCodes(w.rows(), w.cols(), 1),
                .levels = baq_levels(pass1_loss, options),
                .row_lo = w.rowwise().minCoeff().cwiseMin(0.0),
                .row_hi = w.rowwise().maxCoeff().cwiseMax(0.0),
                .column_loss = {}};
  for (Eigen::Index r = 0; r < w.rows(); ++r)
    if (out.row_lo(r) == 0.0 && out.row_hi(r) == 0.0) out.row_lo(r) = -1.0, out.row_hi(r) = 1.0;
  // Ranges as the record stores them (float32), so that its derived grids are the ones used here.
  out.row_lo = out.row_lo.cast<float>().cast<double>();
  out.row_hi = out.row_hi.cast<float>().cast<double>();
  const ColumnRounder round = [&](int64_t j, const Eigen::MatrixXd& work) {
    const AffineGrid grid = column_grid(out.row_lo, out.row_hi, out.levels.levels[j]);
    out.codes.set_column(j, grid, grid.codes(work.col(j)));
    return out.codes.column(j);
  };
  out.column_loss = optq_feedback(w, inverse_cholesky_upper(h), options.block_size, round);
  return out;
}

}  // namespace qat::ptq
