#pragma once
// Parameter initializers, drawing from the process-wide generator (seeded by the experiment).
#include "engine/tensor.h"

namespace qat::init {

/// U(−bound, bound) with bound = 1/sqrt(fan_in): PyTorch's default for conv and linear weights and biases
/// (kaiming_uniform with a = sqrt(5)).
Tensor fan_in_uniform(const Shape& shape, int64_t fan_in);
/// N(0, sqrt(2 / fan_out)): He initialization in fan-out mode (torchvision ResNets).
Tensor kaiming_normal_fan_out(const Shape& shape, int64_t fan_out);

}  // namespace qat::init
