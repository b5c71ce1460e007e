#include "layers/weighted_layer.h"

namespace qat {

void WeightedLayer::register_weight_and_bias(Tensor weight, Tensor bias) {
  weight_ = register_parameter("weight", std::move(weight));
  if (bias.defined()) bias_ = register_parameter("bias", std::move(bias));
}

}  // namespace qat
