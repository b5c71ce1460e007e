#pragma once
// InvertedResidual: MobileNetV2's expand → depthwise → project block.
#include <cstdint>
#include <memory>

#include "layers/conv2d.h"
#include "layers/sequential.h"

namespace qat {

/// conv → BN → ReLU6, the unit of MobileNetV2: a Sequential with children "conv", "bn", "act".
std::shared_ptr<Sequential> conv_bn_relu6(const Conv2dOptions& conv);

/// 1x1 expansion conv_bn_relu6 to in·expand_ratio channels (absent when the ratio is 1), 3x3
/// depthwise conv_bn_relu6 with `stride`, 1x1 projection conv + BN to `out`; plus x when stride is 1
/// and in == out. Children "expand", "dw", "project", "project_bn", run in that order.
class InvertedResidual : public Module {
 public:
  InvertedResidual(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio);
  Variable forward(const Variable& x) override;
  /// True when the block adds its input to its output.
  bool residual() const { return residual_; }

 private:
  bool residual_;
};

}  // namespace qat
