#pragma once
// ImagePipeline: the train and test splits a DataConfig names, with their loaders, as Trainer batch streams.
#include "datasets/data_loader.h"
#include "datasets/image_dataset.h"
#include "experiments/experiment.pb.h"
#include "trainers/image_batches.h"

namespace qat {

/// Loads both splits (subset limits applied) and sets up augmentation for training only.
class ImagePipeline {
 public:
  explicit ImagePipeline(const config::Experiment& experiment);
  ImagePipeline(const ImagePipeline&) = delete;
  ImagePipeline& operator=(const ImagePipeline&) = delete;

  /// Shuffled, augmented training batches.
  ImageBatches& train() { return train_batches_; }
  /// Test batches in file order.
  ImageBatches& test() { return test_batches_; }
  /// Examples in the (limited) training split.
  int64_t train_size() const { return train_set_.size(); }
  /// Examples in the (limited) test split.
  int64_t test_size() const { return test_set_.size(); }

 private:
  ImageDataset train_set_, test_set_;
  DataLoader train_loader_, test_loader_;
  ImageBatches train_batches_, test_batches_;
};

}  // namespace qat
