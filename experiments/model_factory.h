#pragma once
// Builds the network a ModelConfig names.
#include <memory>

#include "experiments/experiment.pb.h"
#include "layers/module.h"

namespace qat {

/// The model for `config.arch`; errors list the known architectures.
std::shared_ptr<Module> build_model(const config::ModelConfig& config);

}  // namespace qat
