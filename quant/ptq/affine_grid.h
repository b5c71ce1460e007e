#pragma once
// AffineGrid and GridCodes: the uniform grids every post-training quantizer rounds onto (PTQ.md, "Grids
// and RTN"), one per row of a block of columns, and the codes of a whole matrix on per-group grids.
#include <Eigen/Dense>
#include <cstdint>
#include <string>

namespace qat::ptq {

/// How a grid's range is fitted to the values it covers.
enum class GridKind { asym0, asym, sym, quip };

/// The kind named `name` ("asym0", "asym", "sym", "quip"); errors on anything else.
GridKind parse_grid_kind(const std::string& name);

/// One grid per row: code = clamp(⌊w/step + zero + η⌋, 0, maxq), value = step·(code − zero).
struct AffineGrid {
  Eigen::VectorXd step;  ///< per row
  Eigen::VectorXd zero;  ///< per row (a half-integer for the symmetric `quip` grid)
  int64_t maxq = 0;      ///< highest code

  /// The code of w in row r with rounding offset η (½: nearest).
  double code(int64_t r, double w, double eta = 0.5) const;
  /// Row r's value of `code`.
  double value(int64_t r, double code) const { return step(r) * (code - zero(r)); }
  /// A column's codes (nearest).
  Eigen::VectorXi codes(const Eigen::Ref<const Eigen::VectorXd>& w) const;
};

/// The grid of `kind` at `bits` fitted to each row of `w` (`quip`: one step from the RMS of all of `w`).
AffineGrid fit_grid(const Eigen::Ref<const Eigen::MatrixXd>& w, GridKind kind, int bits);

/// Integer codes of an m×d matrix on one grid per row and group of `group_size` columns:
/// ŵ_ij = step(i, g)·(code_ij − zero(i, g)), g = j / group_size (the last group may be shorter).
struct GridCodes {
  Eigen::MatrixXi codes;  ///< m×d
  Eigen::MatrixXd step;   ///< m×G
  Eigen::MatrixXd zero;   ///< m×G
  int64_t group_size = 0;

  /// Sized for an m×d matrix with groups of `group_size` columns (0: one group per row).
  GridCodes(int64_t rows, int64_t cols, int64_t group_size);
  /// Groups per row.
  int64_t groups() const { return step.cols(); }
  /// Stores column j's grid (for its group) and codes from `grid`.
  void set_column(int64_t j, const AffineGrid& grid, const Eigen::Ref<const Eigen::VectorXi>& column_codes);
  /// Column j's values.
  Eigen::VectorXd column(int64_t j) const;
  /// The matrix of values.
  Eigen::MatrixXd dequantize() const;
};

}  // namespace qat::ptq
