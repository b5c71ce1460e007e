#include "layers/layer_norm.h"

#include "autograd/ops/norm.h"
#include "engine/error.h"

namespace qat {

LayerNorm::LayerNorm(const LayerNormOptions& options) : options_(options) {
  QAT_CHECK(options.dim > 0 && options.eps > 0.0f, "LayerNorm: dim ", options.dim, " and eps ", options.eps,
            " must be positive");
  weight_ = register_parameter("weight", Tensor::full({options.dim}, 1.0f));
  bias_ = register_parameter("bias", Tensor::zeros({options.dim}));
}

Variable LayerNorm::forward(const Variable& x) {
  QAT_CHECK(x.ndim() >= 1 && x.dim(-1) == options_.dim, "LayerNorm: input ", x.str(),
            " does not end in the normalized dim ", options_.dim);
  return layer_norm(x, weight_, bias_, options_.eps);
}

}  // namespace qat
