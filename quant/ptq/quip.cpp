#include "quant/ptq/quip.h"

#include <cmath>

#include "engine/error.h"
#include "quant/ptq/hessian_fix.h"
#include "quant/ptq/ldlq.h"
#include "quant/ptq/optq.h"
#include "quant/ptq/rtn.h"

namespace qat::ptq {

namespace {

// SplitMix64 (Steele et al. 2014): decorrelated seeds for U and V from one configured seed.
uint64_t splitmix(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + (stream + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Cornell-RelaxML/QuIP:method.py:preproc (rescale): D = (diag Hn / diag WᵀW)^{1/4} balances the
// columns of W against those of H; W ← W·D, H ← D⁻¹·Hn·D⁻¹ leaves tr(ΔW H ΔWᵀ) unchanged.
Eigen::VectorXd rescale(Eigen::MatrixXd& w, Eigen::MatrixXd& h) {
  h /= h.cwiseAbs().maxCoeff();
  const Eigen::ArrayXd hd = h.diagonal().array().max(1e-8);
  const Eigen::ArrayXd wd = w.colwise().squaredNorm().transpose().array().max(1e-8);
  Eigen::VectorXd d = (hd / wd).sqrt().sqrt().max(1e-8).matrix();
  w = w * d.asDiagonal();
  h = d.cwiseInverse().asDiagonal() * h * d.cwiseInverse().asDiagonal();
  return d;
}

// W ← U·W·Vᵀ and H ← V·H·Vᵀ after H ← H·d/tr(H) + 0.01·I (method.py:preproc, preproc_proj).
void make_incoherent(Eigen::MatrixXd& w, Eigen::MatrixXd& h, const WeightTransform& u,
                     const WeightTransform& v) {
  const auto d = static_cast<double>(h.rows());
  h = h * (d / (h.trace() + 1e-8));
  h.diagonal().array() += 0.01;
  apply_transform(u, w);
  Eigen::MatrixXd wt = w.transpose();
  apply_transform(v, wt);
  w = wt.transpose();
  apply_transform(v, h);
  Eigen::MatrixXd ht = h.transpose();
  apply_transform(v, ht);
  h = ht.transpose();
}

GridCodes round_weights(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const QuipOptions& o) {
  if (o.rounding == Rounding::nearest) return rtn_quantize(w, GridKind::quip, o.bits, 0);
  if (o.rounding == Rounding::optq)
    return optq_quantize(w, h, {.grid = GridKind::quip, .bits = o.bits, .block_size = o.block_size}).codes;
  const AffineGrid grid = fit_grid(w, GridKind::quip, o.bits);
  GridCodes codes(w.rows(), w.cols(), 0);
  codes.step.col(0) = grid.step;
  codes.zero.col(0) = grid.zero;
  // Unlike the reference (vector_balance.py:quantize_weight_vecbal), W is not clamped onto the grid's
  // ±2.4·RMS before LDLQ: that drops the clipped part of every entry past it from the feedback, an error
  // no number of bits reduces, which dominated ℓ at 3 and 4 bits on ill-conditioned H. LDLQ clamps as it
  // rounds and feeds the whole error back, as OPTQ does.
  codes.codes = ldlq_round(
      w, h, grid,
      {.block_size = o.block_size, .unbiased = o.unbiased, .seed = o.seed, .greedy_passes = o.greedy_passes});
  return codes;
}

}  // namespace

double incoherence(const Eigen::MatrixXd& w) {
  const double norm = w.norm();
  if (norm == 0.0) return 0.0;
  return w.cwiseAbs().maxCoeff() * std::sqrt(static_cast<double>(w.size())) / norm;
}

QuipResult quip_quantize(const Eigen::MatrixXd& w0, const Eigen::MatrixXd& h0, const QuipOptions& options) {
  QAT_CHECK(h0.rows() == w0.cols() && h0.cols() == w0.cols(), "QuIP: H is ", h0.rows(), "×", h0.cols(),
            " for ", w0.cols(), " columns");
  Eigen::MatrixXd w = w0, h = h0;
  const Eigen::VectorXd d = options.rescale ? rescale(w, h) : Eigen::VectorXd::Ones(w.cols());
  QuipResult out{.codes = GridCodes(w.rows(), w.cols(), 0),
                 .in = make_transform(options.incoherence, w.cols(), splitmix(options.seed, 0)),
                 .out = make_transform(options.incoherence, w.rows(), splitmix(options.seed, 1)),
                 .col_scale = d.cwiseInverse(),
                 .w_hat = {},
                 .incoherence_before = incoherence(w)};
  if (options.incoherence != WeightTransform::Kind::none) make_incoherent(w, h, out.out, out.in);
  out.incoherence_after = incoherence(w);
  const FixedHessian fixed = fix_hessian(h, w, options.damp);
  out.damp_retries = fixed.retries;
  out.codes = round_weights(w, fixed.h, options);
  // Back to the original basis: Uᵀ·Ŵ·V·diag(D)⁻¹.
  Eigen::MatrixXd back = out.codes.dequantize();
  apply_transform_transpose(out.out, back);
  Eigen::MatrixXd back_t = back.transpose();
  apply_transform_transpose(out.in, back_t);
  out.w_hat = back_t.transpose() * out.col_scale.asDiagonal();
  return out;
}

}  // namespace qat::ptq
