#pragma once
// Linear: y = x·Wᵀ + b over the last dimension.
#include "layers/weighted_layer.h"

namespace qat {

/// Construction options.
struct LinearOptions {
  int64_t in = 0;
  int64_t out = 0;
  bool bias = true;
};

/// Fully connected layer with weight [out, in].
class Linear : public WeightedLayer {
 public:
  explicit Linear(const LinearOptions& options);
  Variable forward_with(const Variable& x, const Variable& weight, const Variable& bias) override;
  /// The options it was built with.
  const LinearOptions& options() const { return options_; }

 private:
  LinearOptions options_;
};

}  // namespace qat
