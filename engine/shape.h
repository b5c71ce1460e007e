#pragma once
// Shape: the dimensions of a tensor, outermost first.
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

/// Dimensions of a tensor, outermost first; an empty shape is a scalar.
using Shape = std::vector<int64_t>;

/// Number of elements (1 for a scalar).
int64_t numel(const Shape& shape);
/// Row-major strides in elements.
Shape row_major_strides(const Shape& shape);
/// "[2, 3, 4]".
std::string to_string(const Shape& shape);
/// Resolves a possibly negative axis against `ndim`; throws naming `op` when out of range.
int normalize_axis(int axis, int ndim, const char* op);

}  // namespace qat
