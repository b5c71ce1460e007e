#pragma once
// MobileNetV2 builder: torchvision's mobilenet_v2 with a stride-1 stem for 28x28 inputs.
#include <cstdint>
#include <memory>

#include "layers/sequential.h"

namespace qat {

/// Construction options.
struct MobileNetV2Options {
  double width = 1.0;  ///< width multiplier; channels are rounded to multiples of 8 as torchvision does
  int64_t in_channels = 3;
  int64_t num_classes = 1000;
  float dropout = 0.2f;  ///< before the classifier
};

/// "stem" 3x3 conv_bn_relu6 (stride 1, 32·width channels), 17 InvertedResiduals "block1".."block17"
/// (t, c, n, s: 1,16,1,1 · 6,24,2,2 · 6,32,3,2 · 6,64,4,2 · 6,96,3,1 · 6,160,3,2 · 6,320,1,1), "head" 1x1
/// conv_bn_relu6 to 1280·max(1, width), "pool" (global average), "flatten", "dropout", Linear "classifier".
/// Initialized as torchvision: convs kaiming-normal (fan out), BN 1/0, linear N(0, 0.01) and zero bias.
std::shared_ptr<Sequential> mobilenet_v2(const MobileNetV2Options& options);

}  // namespace qat
