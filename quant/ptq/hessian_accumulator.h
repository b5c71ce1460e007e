#pragma once
// HessianAccumulator: the proxy Hessian H = E[x xᵀ] of a layer's inputs in float64 (PTQ.md, "Calibration
// capture"): token rows for a Linear, im2col rows in the weight's flatten order for a Conv2d, one H per
// group.
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "layers/conv2d.h"

namespace qat::ptq {

/// Rows of a layer's input, row-major.
using InputRows = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Σ XᵀX over every row seen, per group, and the row count.
class HessianAccumulator {
 public:
  /// H of `columns` inputs for each of `groups` groups.
  explicit HessianAccumulator(int64_t columns, int64_t groups = 1);
  /// Adds rows [n, columns] of group `group`.
  void add_rows(const Eigen::Ref<const InputRows>& rows, int64_t group = 0);
  /// Adds a Linear's input [..., columns]: every leading index is one row.
  void add_linear(const Tensor& x);
  /// Adds a Conv2d's input [N, C, H, W] as im2col rows (zero padding included), `chunk_rows` at a time.
  void add_conv(const Tensor& x, const Conv2dOptions& conv, int64_t chunk_rows = 4096);
  /// E[x xᵀ] per group (Σ XᵀX / rows); errors before any row.
  std::vector<Eigen::MatrixXd> hessians() const;
  /// Rows added to group `group`.
  int64_t rows(int64_t group = 0) const { return rows_.at(group); }

 private:
  int64_t columns_;
  std::vector<Eigen::MatrixXd> sums_;  // lower triangles of Σ XᵀX
  std::vector<int64_t> rows_;
};

/// The im2col rows of group `group` of a Conv2d input [N, C, H, W]: row (n, y, x), column
/// (c·k + i)·k + j like the weight [out, C/groups, k, k]; rows [first, first + count) of N·H_out·W_out.
InputRows conv_input_rows(const std::vector<float>& x, const Shape& shape, const Conv2dOptions& conv,
                          int64_t group, int64_t first, int64_t count);

}  // namespace qat::ptq
