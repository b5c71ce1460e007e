#include "layers/batch_norm2d.h"

#include "autograd/ops/norm.h"

namespace qat {

BatchNorm2d::BatchNorm2d(const BatchNorm2dOptions& options)
    : options_(options),
      running_mean_(Tensor::zeros({options.channels})),
      running_var_(Tensor::full({options.channels}, 1.0f)) {
  weight_ = register_parameter("weight", Tensor::full({options.channels}, 1.0f));
  bias_ = register_parameter("bias", Tensor::zeros({options.channels}));
  register_buffer("running_mean", running_mean_);
  register_buffer("running_var", running_var_);
}

Variable BatchNorm2d::forward(const Variable& x) {
  return batch_norm2d(x, weight_, bias_, running_mean_, running_var_, is_training(), options_.momentum,
                      options_.eps, options_.fuse_relu);
}

}  // namespace qat
