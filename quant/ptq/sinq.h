#pragma once
// SINQ (Müller et al. 2025; huawei-csl/SINQ): calibration-free weight quantization on tiles of columns, each
// balanced by Sinkhorn's dual scales before round-to-nearest, with a kurtosis gate back to plain RTN.
#include "quant/ptq/affine_grid.h"

namespace qat::ptq {

/// SINQ's settings (PTQ.md, `ptq` section).
struct SinqOptions {
  int bits = 3;
  int64_t group_size = 64;     ///< preferred tile width
  int iterations = 16;         ///< Sinkhorn steps (0: RTN `asym` on the same tiles)
  double kurtosis_gate = 5.0;  ///< kurtosis above it → RTN `asym`; 0 turns the gate off
};

/// Codes with the row scale folded into the group steps, and the column scale.
struct SinqResult {
  GridCodes codes;                ///< one group per tile; step = RTN scale · μ2
  Eigen::VectorXd col_scale;      ///< μ1 per column (ones when gated)
  double kurtosis = 0.0;          ///< E[(w−μ)⁴]/E[(w−μ)²]² over the whole weight
  bool gated = false;             ///< kurtosis above the gate: plain RTN
  double imbalance_before = 0.0;  ///< mean over tiles of I(M)
  double imbalance_after = 0.0;   ///< mean over tiles of I(M ⊘ μ1 ⊘ μ2)

  /// Ŵ = (Q − z) ⊙ s1 ⊙ s2: the group steps times the column scale.
  Eigen::MatrixXd dequantize() const { return codes.dequantize() * col_scale.asDiagonal(); }
};

/// Kurtosis E[(w−μ)⁴]/E[(w−μ)²]² over all entries.
double kurtosis(const Eigen::MatrixXd& w);

/// Tile width for d columns: `preferred`, halved while it does not divide d down to 16; else `preferred`.
int64_t sinq_tile_width(int64_t d, int64_t preferred);

/// SINQ of `w`; it reads nothing but the weight.
SinqResult sinq_quantize(const Eigen::MatrixXd& w, const SinqOptions& options);

}  // namespace qat::ptq
