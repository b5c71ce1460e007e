#include "layers/flatten.h"

#include "autograd/ops/shape.h"

namespace qat {

Variable Flatten::forward(const Variable& x) { return flatten(x, 1); }

}  // namespace qat
