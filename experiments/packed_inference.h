#pragma once
// PackedInference: a packed model file (qat export --format packed) loaded for integer inference, with
// the experiment config it carries and the architecture rebuilt from it.
#include <memory>
#include <string>
#include <vector>

#include "experiments/experiment.pb.h"
#include "quant/export/packed_model.h"
#include "quant/integer/integer_model.h"
#include "trainers/evaluation.h"

namespace qat {

/// What load_packed_inference returns.
struct PackedInference {
  PackedModel packed;                    ///< the file's layers
  config::Experiment experiment;         ///< its config, with the overrides applied
  std::shared_ptr<Module> architecture;  ///< the float module tree of the config (weights unused)
  std::shared_ptr<IntegerModel> model;   ///< the compiled integer model
};

/// Loads `path`; errors name the file and what is missing or wrong.
PackedInference load_packed_inference(const std::string& path, const std::vector<std::string>& overrides);

/// Loss and accuracy of the integer model over `data` (classification).
Evaluation evaluate_integer(const IntegerModel& model, BatchStream& data);

}  // namespace qat
