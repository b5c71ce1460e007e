#pragma once
// From the experiment's quant section to a quantized model and the trainer hooks of its schedule.
#include "experiments/experiment.pb.h"
#include "experiments/json_line.h"
#include "quant/cost_model.h"
#include "quant/quant_policy.h"
#include "trainers/trainer.h"

namespace qat {

/// The policy of `config` (method, bits, rules, NIPQ settings); errors name the field.
QuantPolicy quant_policy(const config::QuantConfig& config);
/// Wraps the model's layers as `config` says; empty when the method is "none".
QuantizedModel quantize_model(Module& model, const config::QuantConfig& config);
/// The schedule's hooks: NIPQ's noise phase, then `final_epochs` with real quantization and frozen
/// bit-widths (batch norm keeps re-estimating its statistics); the cost loss when a target is set.
void add_quant_hooks(TrainerOptions& options, const QuantizedModel& model, const config::Experiment& e);
/// Adds the average bits, weight size and GBOPs of the model's last forward to a result line.
void add_cost(JsonLine& result, const QuantizedModel& model);

}  // namespace qat
