#pragma once
// Builds the optimizer and learning-rate schedule a TrainConfig describes.
#include <memory>
#include <vector>

#include "experiments/experiment.pb.h"
#include "layers/module.h"
#include "trainers/lr_schedule.h"
#include "trainers/optimizer.h"

namespace qat {

/// Two groups: conv/linear weights (≥ 2-D) with `weight_decay`; biases, norms and scalars without.
std::vector<ParamGroup> parameter_groups(const Module& model, float weight_decay);
/// SGD or AdamW over parameter_groups(model); errors name the field.
std::unique_ptr<Optimizer> build_optimizer(const Module& model, const config::TrainConfig& train);
/// The schedule of `train.schedule`; errors name the field.
LrScheduleOptions schedule_options(const config::TrainConfig& train);

}  // namespace qat
