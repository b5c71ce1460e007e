#pragma once
// LDLQ (Chee et al. 2023, QuIP; Cornell-RelaxML/QuIP:vector_balance.py:round_ldl): columns rounded from
// the last to the first with linear feedback from the unit lower factor of H = LLᵀ, optional greedy passes.
#include <cstdint>

#include "quant/ptq/affine_grid.h"

namespace qat::ptq {

/// LDLQ's settings (PTQ.md, `ptq` section).
struct LdlqOptions {
  int64_t block_size = 128;  ///< lazy-update block of columns
  bool unbiased = false;     ///< η ~ U[0, 1) instead of ½ (stochastic rounding)
  uint64_t seed = 1;         ///< seeds η when unbiased
  int greedy_passes = 0;     ///< > 0: columns sorted by diag(H), then coordinate-descent sweeps (ldlqRG)
};

/// Codes of `w` on the per-row `grid` under a fixed, positive definite `h` (fix_hessian).
Eigen::MatrixXi ldlq_round(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const AffineGrid& grid,
                           const LdlqOptions& options);

}  // namespace qat::ptq
