#pragma once
// OPTQ / GPTQ (Frantar et al. 2023; Cornell-RelaxML/QuIP:gptq.py:fasterquant): columns rounded in order,
// each one's error fed forward through the upper Cholesky factor of H⁻¹, in lazy blocks of columns.
#include <functional>

#include "quant/ptq/affine_grid.h"

namespace qat::ptq {

/// OPTQ's settings (PTQ.md, `ptq` section).
struct OptqOptions {
  GridKind grid = GridKind::asym0;
  int bits = 4;
  int64_t group_size = 0;    ///< 0: one grid per row, fitted before the loop
  int64_t block_size = 128;  ///< lazy-update block of columns
  bool act_order = false;    ///< columns by decreasing diag(H), static groups
};

/// Codes and the loss each column added.
struct OptqResult {
  GridCodes codes;
  Eigen::VectorXd column_loss;  ///< L_i = ½·Σ_r (w_ri − ŵ_ri)² / U_ii², original column order
};

/// Column i's values on the grid, given the working weights (columns > i carry the feedback so far).
using ColumnRounder = std::function<Eigen::VectorXd(int64_t i, const Eigen::MatrixXd& w)>;

/// The upper factor U = chol(H⁻¹)ᵀ of a positive definite H.
Eigen::MatrixXd inverse_cholesky_upper(const Eigen::MatrixXd& h);

/// OPTQ's feedback loop over `w` with factor `u` (inverse_cholesky_upper); returns the column losses.
Eigen::VectorXd optq_feedback(Eigen::MatrixXd w, const Eigen::MatrixXd& u, int64_t block_size,
                              const ColumnRounder& round);

/// OPTQ of `w` (dead columns zeroed) under a fixed, positive definite `h` (fix_hessian).
OptqResult optq_quantize(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const OptqOptions& options);

}  // namespace qat::ptq
