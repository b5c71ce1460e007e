#pragma once
// ImagePipeline: the train and test splits a DataConfig names, with their loaders, as Trainer batch streams.
#include "datasets/data_loader.h"
#include "datasets/image_dataset.h"
#include "experiments/data_pipeline.h"
#include "trainers/image_batches.h"

namespace qat {

/// Loads both splits (subset limits applied) and sets up augmentation for training only.
class ImagePipeline : public DataPipeline {
 public:
  /// Training batches are `shard` of every batch of train.batch_size examples.
  ImagePipeline(const config::Experiment& experiment, TrainShard shard);
  ImagePipeline(const ImagePipeline&) = delete;
  ImagePipeline& operator=(const ImagePipeline&) = delete;

  BatchStream& train() override { return train_batches_; }
  BatchStream& test() override { return test_batches_; }
  int64_t train_size() const override { return train_set_.size(); }
  int64_t test_size() const override { return test_set_.size(); }
  void check_model_input(Module& model) const override;

 private:
  std::string train_file_;  ///< the training images' file, named when they do not fit the model
  ImageDataset train_set_, test_set_;
  DataLoader train_loader_, test_loader_;
  ImageBatches train_batches_, test_batches_;
};

}  // namespace qat
