#pragma once
// BatchStream: what the Trainer reads — epochs of (inputs, targets) batches from any data pipeline.
#include <cstdint>

#include "engine/tensor.h"

namespace qat {

/// One batch: model inputs (images f32 [B, C, H, W] or token ids s32 [B, T]) and integer targets.
struct Batch {
  Tensor inputs;
  Tensor targets;
};

/// A source of batches, one pass per epoch; the order of an epoch depends only on (seed, epoch).
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  /// Starts epoch `epoch` (deterministic shuffle for that epoch).
  virtual void start_epoch(int epoch) = 0;
  /// Fills the next batch; false at the end of the epoch.
  virtual bool next(Batch& batch) = 0;
  /// Batches in one epoch.
  virtual int64_t batches_per_epoch() const = 0;
};

}  // namespace qat
