#pragma once
// InvertedResidual: MobileNetV2's block — 1x1 expansion, 3x3 depthwise, 1x1 linear projection.
#include <cstdint>

#include "layers/module.h"

namespace qat {

/// [expand: conv1x1-BN-ReLU6] → depthwise conv3x3(stride)-BN-ReLU6 → project conv1x1-BN, plus the input
/// when the stride is 1 and the width is unchanged (Sandler et al. 2018; torchvision's layout).
class InvertedResidual : public Module {
 public:
  InvertedResidual(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio);
  Variable forward(const Variable& x) override;

 private:
  bool expand_, residual_;
};

}  // namespace qat
