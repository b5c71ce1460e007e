#include "quant/ptq/rtn.h"

#include <algorithm>

namespace qat::ptq {

GridCodes rtn_quantize(const Eigen::MatrixXd& w, GridKind kind, int bits, int64_t group_size) {
  GridCodes out(w.rows(), w.cols(), group_size);
  for (int64_t g0 = 0; g0 < w.cols(); g0 += out.group_size) {
    const int64_t width = std::min<int64_t>(out.group_size, w.cols() - g0);
    const AffineGrid grid = fit_grid(w.middleCols(g0, width), kind, bits);
    for (int64_t j = g0; j < g0 + width; ++j) out.set_column(j, grid, grid.codes(w.col(j)));
  }
  return out;
}

}  // namespace qat::ptq
