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
/// The `ptq` section as quantize_layer takes it (bits: ptq.weight_bits; a layer's own come from the policy).
ptq::PtqOptions ptq_options(const config::PtqConfig& config);
/// The policy of qat ptq: ptq.method's record weights at ptq.weight_bits, inputs full precision or min-max
/// at ptq.act_bits, on the layers quant.rules and quant.first_last_bits select; errors name the field.
QuantPolicy ptq_policy(const config::Experiment& e);
/// The quantizers of the run that wrote a checkpoint: ptq.method's (qat ptq) when set, else quant.method's.
QuantizedModel quantize_model(Module& model, const config::Experiment& e);
/// The schedule's hooks: NIPQ's noise phase, then `final_epochs` with real quantization and frozen
/// bit-widths (batch norm keeps re-estimating its statistics); the cost loss when a target is set.
void add_quant_hooks(TrainerOptions& options, const QuantizedModel& model, const config::Experiment& e);
/// Adds the average bits, weight size and GBOPs of the model's last forward to a result line.
void add_cost(JsonLine& result, const QuantizedModel& model);

}  // namespace qat
