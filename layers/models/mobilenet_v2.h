#pragma once
// MobileNetV2 (Sandler et al. 2018) as torchvision builds it, with a stride-1 stem for 28x28 inputs.
#include <memory>

#include "layers/sequential.h"

namespace qat {

/// Construction options.
struct MobileNetV2Options {
  int64_t in_channels = 0;
  int64_t num_classes = 0;
  float width_multiplier = 1.0f;
  float dropout = 0.2f;  ///< before the classifier
};

/// stem conv3x3(stride 1)-BN-ReLU6, the 17 inverted-residual blocks of the (t, c, n, s) table, conv1x1
/// to 1280-BN-ReLU6, global average pool, dropout, linear; channels rounded to multiples of 8.
std::shared_ptr<Sequential> mobilenet_v2(const MobileNetV2Options& options);

}  // namespace qat
