#pragma once
// ImageBatches: a DataLoader seen as the Trainer's BatchStream.
#include "datasets/data_loader.h"
#include "trainers/batch_stream.h"

namespace qat {

/// Adapts a DataLoader to BatchStream.
class ImageBatches : public BatchStream {
 public:
  explicit ImageBatches(DataLoader& loader) : loader_(loader) {}
  void start_epoch(int epoch) override { loader_.start_epoch(epoch); }
  bool next(Batch& batch) override { return loader_.next(batch.inputs, batch.targets); }
  int64_t batches_per_epoch() const override { return loader_.batches_per_epoch(); }

 private:
  DataLoader& loader_;
};

}  // namespace qat
