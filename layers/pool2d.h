#pragma once
// Pool2d: max, average or global-average pooling as a layer.
#include "layers/module.h"

namespace qat {

/// Pooling variant.
enum class PoolKind { max, average, global_average };

/// Construction options (kernel/stride/padding unused for global average).
struct Pool2dOptions {
  PoolKind kind = PoolKind::max;
  int64_t kernel = 2;
  int64_t stride = 2;
  int64_t padding = 0;
};

/// Pools over the spatial dimensions of [N, C, H, W].
class Pool2d : public Module {
 public:
  explicit Pool2d(const Pool2dOptions& options) : options_(options) {}
  Variable forward(const Variable& x) override;
  /// The options it was built with.
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

}  // namespace qat
