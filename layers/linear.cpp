#include "layers/linear.h"

#include "autograd/ops/matmul.h"
#include "engine/error.h"
#include "layers/init.h"

namespace qat {

Linear::Linear(const LinearOptions& options) : options_(options) {
  QAT_CHECK(options.in > 0 && options.out > 0, "Linear: sizes in ", options.in, " / out ", options.out,
            " must be positive");
  register_weight_and_bias(init::fan_in_uniform({options.out, options.in}, options.in),
                           options.bias ? init::fan_in_uniform({options.out}, options.in) : Tensor());
}

Variable Linear::forward_with(const Variable& x, const Variable& weight, const Variable& bias) {
  return linear(x, weight, bias);
}

}  // namespace qat
