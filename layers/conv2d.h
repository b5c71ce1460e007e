#pragma once
// Conv2d: 2-D convolution layer (groups and depthwise included).
#include "autograd/ops/conv.h"
#include "layers/weighted_layer.h"

namespace qat {

/// Construction options (designated initializers: `Conv2d({.in = 16, .out = 32, .kernel = 3})`).
struct Conv2dOptions {
  int64_t in = 0;
  int64_t out = 0;
  int64_t kernel = 3;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

/// y = conv2d(x, weight [out, in/groups, k, k]) + bias.
class Conv2d : public WeightedLayer {
 public:
  explicit Conv2d(const Conv2dOptions& options);
  Variable forward_with(const Variable& x, const Variable& weight, const Variable& bias) override;
  /// The options it was built with.
  const Conv2dOptions& options() const { return options_; }

 private:
  Conv2dOptions options_;
};

}  // namespace qat
