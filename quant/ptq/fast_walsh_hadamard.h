#pragma once
// The fast Walsh–Hadamard transform: x ← H_n·x for n a power of two, Sylvester's ordering, unnormalized.
#include <cstdint>

namespace qat::ptq {

/// Transforms `n` contiguous values in place with n·log2(n) additions and subtractions; returns their count.
int64_t fast_walsh_hadamard(double* x, int64_t n);

}  // namespace qat::ptq
