#include "layers/activation.h"

#include "autograd/ops/activation.h"

namespace qat {

Variable Activation::forward(const Variable& x) {
  switch (kind_) {
    case ActivationKind::relu:
      return relu(x);
    case ActivationKind::relu6:
      return relu6(x);
    case ActivationKind::gelu:
      return gelu(x);
    case ActivationKind::hardswish:
      return hardswish(x);
    case ActivationKind::sigmoid:
      return sigmoid(x);
    case ActivationKind::tanh:
      return qat::tanh(x);
  }
  return x;
}

}  // namespace qat
