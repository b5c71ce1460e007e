#pragma once
// Element-wise arithmetic with NumPy broadcasting: forward and backward side by side in arithmetic.cpp.
#include "autograd/variable.h"

namespace qat {

/// a + b.
Variable add(const Variable& a, const Variable& b);
/// a − b.
Variable sub(const Variable& a, const Variable& b);
/// a · b.
Variable mul(const Variable& a, const Variable& b);
/// a / b.
Variable div(const Variable& a, const Variable& b);
/// a · c + d for scalars c, d.
Variable affine(const Variable& a, float c, float d);

inline Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
inline Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
inline Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
inline Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
inline Variable operator+(const Variable& a, float c) { return affine(a, 1.0f, c); }
inline Variable operator-(const Variable& a, float c) { return affine(a, 1.0f, -c); }
inline Variable operator*(const Variable& a, float c) { return affine(a, c, 0.0f); }
inline Variable operator/(const Variable& a, float c) { return affine(a, 1.0f / c, 0.0f); }
inline Variable operator-(const Variable& a) { return affine(a, -1.0f, 0.0f); }

}  // namespace qat
