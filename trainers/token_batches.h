#pragma once
// TokenBatches: a TextLoader seen as the Trainer's BatchStream.
#include "datasets/text/text_loader.h"
#include "trainers/batch_stream.h"

namespace qat {

/// Adapts a TextLoader to BatchStream.
class TokenBatches : public BatchStream {
 public:
  explicit TokenBatches(TextLoader& loader) : loader_(loader) {}
  void start_epoch(int epoch) override { loader_.start_epoch(epoch); }
  bool next(Batch& batch) override { return loader_.next(batch.inputs, batch.targets); }
  int64_t batches_per_epoch() const override { return loader_.batches_per_epoch(); }

 private:
  TextLoader& loader_;
};

}  // namespace qat
