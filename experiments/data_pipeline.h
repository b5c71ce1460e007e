#pragma once
// DataPipeline: the train and test batch streams of an experiment's data section, image or text.
#include <map>
#include <memory>
#include <string>

#include "engine/tensor.h"
#include "experiments/experiment.pb.h"
#include "layers/module.h"
#include "trainers/batch_stream.h"

namespace qat {

/// What the trainer reads, plus the files the model needs next to its weights.
class DataPipeline {
 public:
  virtual ~DataPipeline() = default;
  /// Shuffled (and augmented or masked) training batches.
  virtual BatchStream& train() = 0;
  /// Test batches in a fixed order.
  virtual BatchStream& test() = 0;
  /// Examples (sequences for text) in the limited training split.
  virtual int64_t train_size() const = 0;
  /// Examples in the limited test split.
  virtual int64_t test_size() const = 0;
  /// Fails, naming the data file, when one example does not fit `model`'s input (e.g. the image size or
  /// channels of another dataset); a no-op where the pipeline builds its examples for the model (text).
  virtual void check_model_input(Module& model) const {}
  /// Stored with the checkpoints, e.g. the tokenizer; empty for images.
  virtual std::map<std::string, Tensor> assets() const { return {}; }
  /// Baselines a run reports next to its own figures, by name (e.g. a causal LM's unigram perplexity).
  virtual std::map<std::string, double> reference_figures() const { return {}; }
};

/// The part of every training batch one rank of a data-parallel run reads.
struct TrainShard {
  int rank = 0;
  int ranks = 1;
};

/// The pipeline of `experiment.data.dataset`; `assets` of a checkpoint the run starts from (its
/// tokenizer is reused); `shard` of every training batch. Errors name the field.
std::unique_ptr<DataPipeline> make_pipeline(const config::Experiment& experiment,
                                            const std::map<std::string, Tensor>& assets = {},
                                            TrainShard shard = {});

}  // namespace qat
