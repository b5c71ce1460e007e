#pragma once
// QuIP (Chee et al. 2023; Cornell-RelaxML/QuIP:method.py with --incoh_processing): diagonal rescale, random
// orthogonal incoherence W ← U W Vᵀ, H ← V H Vᵀ, rounding on one symmetric grid, and the way back.
#include "quant/ptq/affine_grid.h"
#include "quant/ptq/weight_transform.h"

namespace qat::ptq {

/// How a column is rounded once W and H are prepared.
enum class Rounding { nearest, optq, ldlq };

/// QuIP's settings (PTQ.md, `ptq` section, with QuIP's defaults).
struct QuipOptions {
  int bits = 2;
  WeightTransform::Kind incoherence = WeightTransform::Kind::kronecker;
  bool rescale = true;
  uint64_t seed = 1;  ///< transforms: V from splitmix(seed, 0), U from splitmix(seed, 1)
  Rounding rounding = Rounding::ldlq;
  double damp = 0.01;
  int64_t block_size = 128;
  int greedy_passes = 0;
  bool unbiased = false;
};

/// Codes in the transformed basis and everything that maps them back.
struct QuipResult {
  GridCodes codes;                  ///< on the `quip` grid: step 2s/(2^b−1), zero (2^b−1)/2
  WeightTransform in;               ///< V, d×d
  WeightTransform out;              ///< U, m×m
  Eigen::VectorXd col_scale;        ///< 1/D per input column
  Eigen::MatrixXd w_hat;            ///< Uᵀ·Ŵ·V·diag(col_scale), the original basis
  double incoherence_before = 0.0;  ///< μ(W·diag(D))
  double incoherence_after = 0.0;   ///< μ(U·W·diag(D)·Vᵀ)
  int damp_retries = 0;             ///< Cholesky retries of the H fix
};

/// The incoherence μ(W) = max|W_ij|·√(m·n)/‖W‖_F (QuIP, Definition 1 for weights).
double incoherence(const Eigen::MatrixXd& w);

/// QuIP of `w` under the proxy Hessian `h` (undamped; dead inputs are handled here).
QuipResult quip_quantize(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const QuipOptions& options);

}  // namespace qat::ptq
