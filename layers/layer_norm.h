#pragma once
// LayerNorm: normalization over the last dimension with a learned scale and shift.
#include <cstdint>

#include "layers/module.h"

namespace qat {

/// Construction options.
struct LayerNormOptions {
  int64_t dim = 0;  ///< size of the normalized (last) dimension
  float eps = 1e-5f;
};

/// y = (x − mean) / sqrt(var + eps) · weight + bias over the last dimension; weight 1, bias 0 at start.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(const LayerNormOptions& options);
  Variable forward(const Variable& x) override;
  /// The options it was built with.
  const LayerNormOptions& options() const { return options_; }

 private:
  LayerNormOptions options_;
  Variable weight_;
  Variable bias_;
};

}  // namespace qat
