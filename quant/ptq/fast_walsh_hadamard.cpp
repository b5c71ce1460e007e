#include "quant/ptq/fast_walsh_hadamard.h"

#include "engine/error.h"

namespace qat::ptq {

// H_{2n} = [[H_n, H_n], [H_n, −H_n]]: log2(n) stages of n/2 butterflies (a, b) → (a + b, a − b).
int64_t fast_walsh_hadamard(double* x, int64_t n) {
  QAT_CHECK(n > 0 && (n & (n - 1)) == 0, "fast_walsh_hadamard: length ", n, " is not a power of two");
  int64_t ops = 0;
  for (int64_t half = 1; half < n; half *= 2)
    for (int64_t start = 0; start < n; start += 2 * half)
      for (int64_t i = start; i < start + half; ++i) {
        const double a = x[i], b = x[i + half];
        x[i] = a + b;
        x[i + half] = a - b;
        ops += 2;
      }
  return ops;
}

}  // namespace qat::ptq
