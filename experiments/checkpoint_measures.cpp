#include "experiments/checkpoint_measures.h"

#include <cmath>
#include <limits>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/data_pipeline.h"
#include "experiments/prediction_metrics.h"
#include "experiments/run_key.h"
#include "quant/cost_model.h"
#include "quant/mixed_precision/cost_table.h"
#include "trainers/evaluation.h"
#include "trainers/losses.h"

namespace qat {
namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Appends a batch's top-1, softmax confidence and targets; returns the batch's summed cross-entropy.
double add_predictions(const Tensor& logits, const Tensor& targets, TestPredictions& p) {
  const std::vector<float> values = logits.contiguous().to_vector();
  const std::vector<float> labels = targets.to(DType::f32).contiguous().to_vector();
  const auto classes = static_cast<size_t>(logits.dim(-1));
  double loss = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    const float* z = values.data() + row * classes;
    size_t best = 0;
    for (size_t c = 1; c < classes; ++c)
      if (z[c] > z[best]) best = c;
    double sum = 0;
    for (size_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c] - z[best]));
    const auto target = static_cast<size_t>(labels[row]);
    loss += std::log(sum) - static_cast<double>(z[target] - z[best]);
    p.top1.push_back(static_cast<int32_t>(best));
    p.confidence.push_back(1.0 / sum);
    p.targets.push_back(static_cast<int32_t>(target));
  }
  return loss;
}

// Classification over the test split: accuracy, mean loss, top-1 per example, ECE and spread; the first
// batch's inputs are kept as the timing example.
json classify_test_split(Module& model, BatchStream& test, Tensor& example) {
  TestPredictions p;
  double loss = 0;
  model.eval();
  test.start_epoch(0);
  NoGrad no_grad;
  for (Batch batch; test.next(batch);) {
    if (example.ndim() == 0) example = batch.inputs;
    loss += add_predictions(model.forward(Variable(batch.inputs)).data(), batch.targets, p);
  }
  return {{"accuracy", accuracy(p)},
          {"loss", p.top1.empty() ? kNaN : loss / static_cast<double>(p.top1.size())},
          {"top1", p.top1},
          {"ece", expected_calibration_error(p)},
          {"spread", class_accuracy_spread(p)}};
}

// Sequence models (token inputs, a target per position): accuracy and loss of the shared evaluation loop.
json evaluate_sequences(Module& model, BatchStream& test, Tensor& example) {
  test.start_epoch(0);
  Batch first;
  if (test.next(first)) example = first.inputs;
  const Evaluation e = evaluate_model(model, test, [](const Variable& output, const Tensor& targets) {
    return classification_loss(output, targets);
  });
  model.eval();
  return {
      {"accuracy", e.accuracy}, {"loss", e.loss}, {"top1", json::array()}, {"ece", kNaN}, {"spread", kNaN}};
}

bool token_inputs(DataPipeline& data) {
  BatchStream& test = data.test();
  test.start_epoch(0);
  Batch batch;
  return test.next(batch) && batch.inputs.dtype() != DType::f32;
}

int64_t parameter_count(const Module& model) {
  int64_t count = 0;
  for (const Variable& p : model.parameters()) count += p.data().numel();
  return count;
}

// Bits, GBOPs, per-layer costs and the packed file's dataset bytes (float models: 4 bytes a parameter).
void add_costs(CheckpointModel& loaded, json& out) {
  out["parameters"] = parameter_count(*loaded.model);
  out["layers"] = json::array();
  if (loaded.quantized.layers.empty()) {
    out["size_bytes"] = 4 * out["parameters"].get<int64_t>();
    out.update({{"avg_weight_bits", 32}, {"avg_act_bits", 32}, {"gbops", kNaN}, {"size_note", "float"}});
    return;
  }
  const std::vector<LayerCost> layers = layer_costs(loaded.quantized);
  for (const LayerCost& l : layers)
    out["layers"].push_back({{"path", l.path},
                             {"w_bits", l.weight_bits},
                             {"a_bits", l.act_bits},
                             {"weights", l.weight_elements},
                             {"macs", l.macs}});
  const ModelCost total = total_cost(layers);
  out.update({{"avg_weight_bits", total.avg_weight_bits},
              {"avg_act_bits", total.avg_act_bits},
              {"gbops", total.gbops}});
  try {
    const CostTable table = CostTable::of(*loaded.model, loaded.quantized);
    out["size_bytes"] = table.size_bytes(table.built());
    out["size_note"] = "packed";
  } catch (const Error& e) {
    out["size_bytes"] = total.weight_size_bits / 8;
    out["size_note"] = std::string("Σ numel·bits/8 (not packable: ") + e.what() + ")";
  }
}

}  // namespace

json measure_checkpoint(const std::string& path, const TimingPlan& plan,
                        const std::vector<std::string>& overrides) {
  CheckpointModel loaded = load_checkpoint_model(path, overrides);
  const config::Experiment& e = loaded.experiment;
  const auto data = make_pipeline(e, loaded.checkpoint.assets);
  Tensor example;
  json out = token_inputs(*data) ? evaluate_sequences(*loaded.model, data->test(), example)
                                 : classify_test_split(*loaded.model, data->test(), example);
  out["key"] = RunKey::of(e).to_json();
  out["init_checkpoint"] = e.init_checkpoint();
  out["test_limit"] = e.data().test_limit();
  add_costs(loaded, out);
  out["timing"] = plan.batches.empty() ? json(nullptr) : time_inference(loaded, example, plan);
  return out;
}

}  // namespace qat
