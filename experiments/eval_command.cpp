#include "experiments/eval_command.h"

#include <chrono>
#include <cmath>

#include "engine/error.h"
#include "experiments/config_loader.h"
#include "experiments/data_pipeline.h"
#include "experiments/json_line.h"
#include "experiments/model_factory.h"
#include "experiments/quant_setup.h"
#include "trainers/checkpoint.h"
#include "trainers/evaluation.h"
#include "trainers/losses.h"

namespace qat {

std::string run_eval(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat eval: expected one CHECKPOINT argument");
  const std::string& path = line.positional[0];
  const auto start = std::chrono::steady_clock::now();
  const Checkpoint checkpoint = load_checkpoint(path);
  const auto config = checkpoint.meta.find("config");
  QAT_CHECK(config != checkpoint.meta.end(), "checkpoint ", path,
            ": no 'config' attribute (not written by qat train)");
  config::Experiment e = parse_experiment(config->second, path + " (config attribute)");
  for (const std::string& assignment : line.overrides) apply_override(e, assignment);

  const auto model = build_model(e.model());
  const QuantizedModel quantized = quantize_model(*model, e.quant());
  model->load_state_dict(checkpoint.model);
  // A run that kept an EMA of its weights was evaluated, and is deployed, with the averages.
  if (!checkpoint.ema.empty()) model->load_state_dict(checkpoint.ema, true);
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
