#pragma once
// Round-to-nearest: the baseline every post-training method is compared with (PTQ.md, "Grids and RTN").
#include "quant/ptq/affine_grid.h"

namespace qat::ptq {

/// Each row, or each group of `group_size` contiguous columns (0: whole rows), on its own grid of `kind`.
GridCodes rtn_quantize(const Eigen::MatrixXd& w, GridKind kind, int bits, int64_t group_size);

}  // namespace qat::ptq
