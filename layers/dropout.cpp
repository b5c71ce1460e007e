#include "layers/dropout.h"

#include "autograd/ops/dropout.h"
#include "engine/error.h"
#include "engine/random.h"

namespace qat {

Dropout::Dropout(const DropoutOptions& options) : options_(options) {
  QAT_CHECK(options.p >= 0.0f && options.p <= 1.0f, "Dropout: p ", options.p, " outside [0, 1]");
}

Variable Dropout::forward(const Variable& x) {
  return dropout(x, options_.p, is_training(), global_generator());
}

}  // namespace qat
