#pragma once
// Shape ops: forward and backward side by side in shape.cpp.
#include <vector>

#include "autograd/variable.h"

namespace qat {

/// Same elements viewed with a new shape; one dimension may be −1 (inferred).
Variable reshape(const Variable& x, Shape shape);
/// Collapses dimensions from `start_axis` on into one.
Variable flatten(const Variable& x, int start_axis = 1);
/// Reorders dimensions: output dim i is input dim order[i].
Variable permute(const Variable& x, const std::vector<int>& order);
/// Swaps two dimensions.
Variable transpose(const Variable& x, int a, int b);
/// Elements [begin, end) along `axis`.
Variable slice(const Variable& x, int axis, int64_t begin, int64_t end);
/// Joins variables of equal shape except along `axis`.
Variable concat(const std::vector<Variable>& xs, int axis);

}  // namespace qat
