#pragma once
// BatchNorm2d: per-channel batch normalization with running statistics, optionally fused with ReLU.
#include "layers/module.h"

namespace qat {

/// Construction options.
struct BatchNorm2dOptions {
  int64_t channels = 0;
  float momentum = 0.1f;
  float eps = 1e-5f;
  bool fuse_relu = false;  ///< apply ReLU in the same oneDNN pass
};

/// Normalizes with batch statistics in training (updating running ones) and running ones in evaluation.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(const BatchNorm2dOptions& options);
  Variable forward(const Variable& x) override;
  /// The options it was built with.
  const BatchNorm2dOptions& options() const { return options_; }

 private:
  BatchNorm2dOptions options_;
  Variable weight_;
  Variable bias_;
  Tensor running_mean_;
  Tensor running_var_;
};

}  // namespace qat
