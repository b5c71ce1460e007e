#pragma once
// The one recorded op behind every uniform-grid quantizer (LSQ, LSQ+, PACT, DoReFa activations, min-max
// and NIPQ's rounding path): the fused forward kernel, and a backward that passes the gradient straight
// through inside the range and lets each method form its scalar gradients from the per-channel sums.
#include <functional>
#include <vector>

#include "autograd/variable.h"
#include "engine/kernels/fake_quant.h"

namespace qat {

/// Per-channel step (and offset) tensors of a grid with integer codes in [qmin, qmax].
struct GridSpec {
  Tensor step;    ///< f32 [channels]: one step per channel (channels = 1 per tensor)
  Tensor offset;  ///< f32 [channels], or undefined for 0
  float qmin = 0.0f;
  float qmax = 0.0f;
};

/// The gradients of the op's scalar inputs (in their order) from the backward's per-channel sums.
using GridScalarGrads = std::function<std::vector<Tensor>(const kernels::GridGradSums& sums)>;

/// x fake-quantized on `grid` (channels along x's axis 0) as op `name` with inputs {x, scalars...};
/// `scalar_grads` may be empty when there are no scalars.
Variable grid_fake_quant(const char* name, const Variable& x, const GridSpec& grid,
                         const std::vector<Variable>& scalars, GridScalarGrads scalar_grads);

}  // namespace qat
