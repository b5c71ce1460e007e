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

}  // namespace qat
