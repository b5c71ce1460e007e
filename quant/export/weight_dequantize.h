#pragma once
// The one dequantization of a quantized-weight record that simulation, export and tests share
// (PTQ.md, "The quantized-weight record"): diag(row_scale)·Uᵀ·((c − z)·s)·V·diag(col_scale).
#include <vector>

#include "quant/export/quantized_weight.h"

namespace qat {

/// Step and zero point of one code.
struct ElementGrid {
  double step = 1.0;
  double zero = 0.0;
};

/// The grid of code (r, j) of the [out, in] code matrix: per tensor, row or group, or (BAQ) from
/// levels[j] and row r's range — s = (hi − lo)/(n − 1), z = round(−lo/s); one level is the value 0.
ElementGrid element_grid(const QuantizedWeight& w, int64_t r, int64_t j);

/// The weight the record stands for, row-major like the layer's weight.
std::vector<float> dequantize(const QuantizedWeight& w);

}  // namespace qat
