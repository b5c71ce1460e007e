#include "quant/ptq/sinq.h"

#include <algorithm>

#include "engine/error.h"
#include "quant/ptq/rtn.h"
#include "quant/ptq/sinkhorn.h"

namespace qat::ptq {

// Two passes over w (the mean, then the central moments), without a centred copy.
double kurtosis(const Eigen::MatrixXd& w) {
  const double mean = w.mean();
  const double* v = w.data();
  double m2 = 0.0, m4 = 0.0;
#pragma omp simd reduction(+ : m2, m4)
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    const double d2 = (v[i] - mean) * (v[i] - mean);
    m2 += d2;
    m4 += d2 * d2;
  }
  return m2 > 0.0 ? static_cast<double>(w.size()) * m4 / (m2 * m2) : 0.0;
}

int64_t sinq_tile_width(int64_t d, int64_t preferred) {
  for (int64_t t = preferred; t >= 16; t /= 2)
    if (d % t == 0) return t;
  return preferred;
}

SinqResult sinq_quantize(const Eigen::MatrixXd& w, const SinqOptions& options) {
  QAT_CHECK(options.group_size > 0, "SINQ: tile width ", options.group_size);
  const int64_t d = w.cols(), tile = sinq_tile_width(d, options.group_size);
  SinqResult out{
      .codes = GridCodes(w.rows(), d, tile), .col_scale = Eigen::VectorXd::Ones(d), .kurtosis = kurtosis(w)};
  out.gated = options.kurtosis_gate > 0.0 && out.kurtosis > options.kurtosis_gate;
  if (out.gated) {
    out.codes = rtn_quantize(w, GridKind::asym, options.bits, tile);
    return out;
  }
  for (int64_t t0 = 0; t0 < d; t0 += tile) {
    const int64_t width = std::min(tile, d - t0);
    const Eigen::MatrixXd m = w.middleCols(t0, width);
    const SinkhornResult s = sinkhorn_log(m, options.iterations);
    const Eigen::MatrixXd c = s.mu2.cwiseInverse().asDiagonal() * m * s.mu1.cwiseInverse().asDiagonal();
    const AffineGrid grid = fit_grid(c, GridKind::asym, options.bits);
    AffineGrid folded = grid;  // s1 = scale·μ2 (sinq/dual_shift.py:dequantize_dual_scale_shift)
    folded.step = grid.step.cwiseProduct(s.mu2);
    for (int64_t j = 0; j < width; ++j) out.codes.set_column(t0 + j, folded, grid.codes(c.col(j)));
    out.col_scale.segment(t0, width) = s.mu1;
    out.imbalance_before += s.imbalance_before;
    out.imbalance_after += s.imbalance_after;
  }
  const auto tiles = static_cast<double>(out.codes.groups());
  out.imbalance_before /= tiles;
  out.imbalance_after /= tiles;
  return out;
}

}  // namespace qat::ptq
