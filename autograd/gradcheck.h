#pragma once
// Gradcheck: compares an op's tape gradients with central finite differences.
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace qat {

/// Settings of a gradient check.
struct GradcheckOptions {
  double eps = 1e-2;           ///< central-difference step
  double atol = 2e-3;          ///< absolute tolerance
  double rtol = 1e-2;          ///< relative tolerance (to the finite-difference value)
  std::vector<int> skip = {};  ///< inputs not checked (labels, indices, masks)
  uint64_t seed = 7;           ///< seed of the random output projection
};

/// The function under test: inputs in, one output Variable out; must be deterministic.
using GradcheckFn = std::function<Variable(const std::vector<Variable>&)>;

/// Checks d(Σ w·f(x))/dx from backward() against (L(x+eps) − L(x−eps)) / 2eps accumulated in double,
/// for every element of every checked f32 input, with w a fixed random projection.
/// Returns "" when every element is within atol + rtol·|numeric|, else a report of the worst mismatch.
std::string gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                      const GradcheckOptions& options = {});

}  // namespace qat
