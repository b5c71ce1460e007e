#include "layers/conv2d.h"

#include "engine/error.h"
#include "layers/init.h"

namespace qat {

Conv2d::Conv2d(const Conv2dOptions& options) : options_(options) {
  QAT_CHECK(options.in > 0 && options.out > 0 && options.groups > 0 && options.in % options.groups == 0 &&
                options.out % options.groups == 0,
            "Conv2d: channels in ", options.in, " / out ", options.out,
            " must be positive multiples of groups ", options.groups);
  const int64_t fan_in = options.in / options.groups * options.kernel * options.kernel;
  const Shape shape{options.out, options.in / options.groups, options.kernel, options.kernel};
  Tensor weight = init::fan_in_uniform(shape, fan_in);
  register_weight_and_bias(std::move(weight),
                           options.bias ? init::fan_in_uniform({options.out}, fan_in) : Tensor());
}

Variable Conv2d::forward_with(const Variable& x, const Variable& weight, const Variable& bias) {
  return conv2d(x, weight, bias,
                {.stride = options_.stride,
                 .padding = options_.padding,
                 .dilation = options_.dilation,
                 .groups = options_.groups});
}

}  // namespace qat
