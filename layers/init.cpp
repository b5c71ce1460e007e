#include "layers/init.h"

#include <cmath>

#include "engine/random.h"

namespace qat::init {

Tensor fan_in_uniform(const Shape& shape, int64_t fan_in) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  return global_generator().uniform_tensor(shape, -bound, bound);
}

Tensor kaiming_normal_fan_out(const Shape& shape, int64_t fan_out) {
  return global_generator().normal_tensor(shape, 0.0f, std::sqrt(2.0f / static_cast<float>(fan_out)));
}

}  // namespace qat::init
