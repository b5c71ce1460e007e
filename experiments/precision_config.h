#pragma once
// From train.precision to the engine's Precision.
#include "engine/context.h"
#include "experiments/experiment.pb.h"

namespace qat {

/// The Precision of `train.precision` ("fp32" or "bf16"); errors name the field.
Precision precision_of(const config::TrainConfig& train);

}  // namespace qat
