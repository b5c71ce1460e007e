#pragma once
// BAQ (CSU-ModelCompression/BAQ:gptq_baq.py, quant_baq.py): per-column level counts from OPTQ's column losses
// by reverse water-filling, then OPTQ again on those non-uniform column grids (PTQ.md, "BAQ").
#include <vector>

#include "quant/ptq/affine_grid.h"

namespace qat::ptq {

/// BAQ's settings (PTQ.md, `ptq` section).
struct BaqOptions {
  double rate = 4.0;         ///< target bits per weight R̄
  double theta = 1.95;       ///< loss exponent θ of L(R) ∝ 2^{−θR}
  int max_levels = 128;      ///< cap on n_j (keeps q − z in s8)
  bool rate_match = true;    ///< bisect an offset on R until the rate is within 0.01 bit of R̄
  int64_t block_size = 128;  ///< OPTQ's lazy block in pass 2
};

/// Pass 1: OPTQ's column losses at a uniform width and their spread.
struct BaqCalibration {
  Eigen::VectorXd loss;  ///< L_j
  double gain_th = 0.0;  ///< GM(L)/AM(L) over L_j > 0: the predicted pass-2/pass-1 loss ratio
};

/// Level counts per column and the offset on R that produced them.
struct BaqLevels {
  std::vector<int32_t> levels;  ///< n_j ≥ 1
  double offset = 0.0;          ///< δ in 2^{R_j} = max(1, (L_j/L̄)^{1/θ}·2^{R̄+δ})
};

/// Pass 2's result: codes on per-column grids over fixed row ranges.
struct BaqResult {
  GridCodes codes;                 ///< group size 1: step and zero per row and column
  BaqLevels levels;                ///< n_j per column
  Eigen::VectorXd row_lo, row_hi;  ///< asym0 row ranges the grids span
  Eigen::VectorXd column_loss;     ///< pass 2's L_j
};

/// Pass 1: OPTQ at `bits` per row (asym0, grids fixed before the loop, block size 1) under a fixed H.
BaqCalibration baq_calibrate(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, int bits);

/// n_j = min(round(2^{R_j}), max_levels) from the pass-1 losses (Σ c_j 2^{−θR_j} at mean R̄: reverse
/// water-filling R_j = R̄ + log2(c_j/GM(c))/θ), the offset bisected when rate_match.
BaqLevels baq_levels(const Eigen::VectorXd& loss, const BaqOptions& options);

/// The rate mean_j log2 n_j of a level allocation.
double baq_rate(const std::vector<int32_t>& levels);

/// The packable rate mean_j ⌈log2 n_j⌉.
double baq_packable_rate(const std::vector<int32_t>& levels);

/// Pass 2: OPTQ of `w` under a fixed `h` on the levels from `pass1_loss`; n_j = 1 zeroes column j.
BaqResult baq_quantize(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const Eigen::VectorXd& pass1_loss,
                       const BaqOptions& options);

}  // namespace qat::ptq
