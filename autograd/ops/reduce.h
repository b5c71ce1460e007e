#pragma once
// Reductions over axes: forward and backward side by side in reduce.cpp.
#include <vector>

#include "autograd/variable.h"

namespace qat {

/// Sum over `axes` (negative counts from the end); reduced axes kept as size 1 when `keepdim`.
Variable sum(const Variable& x, const std::vector<int>& axes, bool keepdim = false);
/// Mean over `axes`.
Variable mean(const Variable& x, const std::vector<int>& axes, bool keepdim = false);
/// Sum of every element (a scalar, shape {}).
Variable sum(const Variable& x);
/// Mean of every element (a scalar, shape {}).
Variable mean(const Variable& x);

}  // namespace qat
