#pragma once
// A model rebuilt from a checkpoint written by qat train: its config, architecture, quantizers and weights.
#include <memory>
#include <string>
#include <vector>

#include "experiments/experiment.pb.h"
#include "quant/quant_policy.h"
#include "trainers/checkpoint.h"

namespace qat {

/// What load_checkpoint_model returns.
struct CheckpointModel {
  Checkpoint checkpoint;          ///< the file's contents
  config::Experiment experiment;  ///< its config, with the overrides applied
  std::shared_ptr<Module> model;  ///< the weights (the EMA when the run kept one) loaded
  QuantizedModel quantized;       ///< its quantized layers (empty for a full-precision model)
};

/// Loads `path`; errors name the file and what is missing or wrong.
CheckpointModel load_checkpoint_model(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace qat
