#include "experiments/eval_command.h"

#include <chrono>
#include <cmath>

#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/data_pipeline.h"
#include "experiments/json_line.h"
#include "experiments/quant_setup.h"
#include "trainers/evaluation.h"
#include "trainers/losses.h"

namespace qat {

std::string run_eval(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat eval: expected one CHECKPOINT argument");
  const std::string& path = line.positional[0];
  const auto start = std::chrono::steady_clock::now();
  const CheckpointModel loaded = load_checkpoint_model(path, line.overrides);
  const Checkpoint& checkpoint = loaded.checkpoint;
  const config::Experiment& e = loaded.experiment;
  const auto& model = loaded.model;
  const QuantizedModel& quantized = loaded.quantized;
  const auto data = make_pipeline(e, checkpoint.assets);
  const Evaluation test = evaluate_model(
      *model, data->test(),
      [](const Variable& output, const Tensor& targets) { return classification_loss(output, targets); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  JsonLine result;
  result.add("command", "eval")
      .add("checkpoint", path)
      .add("model", e.model().arch())
      .add("weights", checkpoint.ema.empty() ? "model" : "ema")
      .add("test_examples", test.samples)
      .add("test_accuracy", test.accuracy)
      .add("test_loss", test.loss)
      .add("test_perplexity", std::exp(test.loss))
      .add("seconds", seconds);
  if (!quantized.layers.empty()) add_cost(result, quantized);
  return result.str();
}

}  // namespace qat
