#pragma once
// A scale-free update for the layer tests' tiny training loops (layers may not depend on trainers/).
#include "autograd/variable.h"

namespace qat::testing {

/// p −= lr·sign(grad): every weight moves by lr, so small initial weights (attention at N(0, 0.02), deep
/// BN networks) learn as fast as the rest — plain gradient descent needs many more steps there.
inline void sign_descent(Variable& p, float lr) {
  Tensor next = p.data().contiguous().clone();
  const Tensor g = p.grad().contiguous();
  float* v = next.data<float>();
  const float* d = g.data<float>();
  for (int64_t i = 0; i < next.numel(); ++i) v[i] -= d[i] > 0 ? lr : (d[i] < 0 ? -lr : 0.0f);
  p.set_data(next);
}

}  // namespace qat::testing
