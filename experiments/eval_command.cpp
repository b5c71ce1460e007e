#include "experiments/eval_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/data_pipeline.h"
#include "experiments/json_line.h"
#include "experiments/packed_inference.h"
#include "experiments/quant_setup.h"
#include "quant/export/packed_file.h"
#include "quant/integer/layer_runner.h"
#include "trainers/evaluation.h"
#include "trainers/losses.h"

namespace qat {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A packed model (qat export --format packed) through integer inference on the test split of its config;
// float_layers counts the layers that run in f32 (runs_int8).
std::string eval_packed(const CommandLine& line, std::chrono::steady_clock::time_point start) {
  const std::string& path = line.positional[0];
  const PackedInference loaded = load_packed_inference(path, line.overrides);
  const auto data = make_pipeline(loaded.experiment);
  const Evaluation test = evaluate_integer(*loaded.model, data->test());
  const auto float_layers = std::count_if(loaded.packed.layers.begin(), loaded.packed.layers.end(),
                                          [](const PackedLayer& l) { return !runs_int8(l); });
  JsonLine result;
  result.add("command", "eval")
      .add("checkpoint", path)
      .add("model", loaded.experiment.model().arch())
      .add("weights", "packed")
      .add("test_examples", test.samples)
      .add("test_accuracy", test.accuracy)
      .add("test_loss", test.loss)
      .add("test_perplexity", std::exp(test.loss))
      .add("seconds", seconds_since(start))
      .add("inference", "integer")
      .add("float_layers", static_cast<int64_t>(float_layers));
  return result.str();
}

}  // namespace

std::string run_eval(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat eval: expected one CHECKPOINT argument");
  const std::string& path = line.positional[0];
  const auto start = std::chrono::steady_clock::now();
  if (is_packed_file(path)) return eval_packed(line, start);
  const CheckpointModel loaded = load_checkpoint_model(path, line.overrides);
  const Checkpoint& checkpoint = loaded.checkpoint;
  const config::Experiment& e = loaded.experiment;
  const auto& model = loaded.model;
  const QuantizedModel& quantized = loaded.quantized;
  const auto data = make_pipeline(e, checkpoint.assets);
  const Evaluation test = evaluate_model(
      *model, data->test(),
      [](const Variable& output, const Tensor& targets) { return classification_loss(output, targets); });
  JsonLine result;
  result.add("command", "eval")
      .add("checkpoint", path)
      .add("model", e.model().arch())
      .add("weights", checkpoint.ema.empty() ? "model" : "ema")
      .add("test_examples", test.samples)
      .add("test_accuracy", test.accuracy)
      .add("test_loss", test.loss)
      .add("test_perplexity", std::exp(test.loss))
      .add("seconds", seconds_since(start));
  if (!quantized.layers.empty()) add_cost(result, quantized);
  return result.str();
}

}  // namespace qat
