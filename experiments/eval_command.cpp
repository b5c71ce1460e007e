#include "experiments/eval_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/atomic_file.h"
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

// The model as a Module that keeps the rows of every output (over its last dimension) it computes, for
// `qat eval --logits FILE`; evaluation mode reaches the model as its child.
class LogitRecorder : public Module {
 public:
  explicit LogitRecorder(std::shared_ptr<Module> model)
      : model_(register_module("model", std::move(model))) {}
  Variable forward(const Variable& x) override {
    Variable y = model_->forward(x);
    const std::vector<float> values = y.data().contiguous().to_vector();
    const auto width = static_cast<size_t>(y.data().dim(-1));
    for (size_t i = 0; i < values.size(); i += width)
      rows_.emplace_back(values.begin() + i, values.begin() + i + width);
    return y;
  }
  const std::vector<std::vector<float>>& rows() const { return rows_; }

 private:
  std::shared_ptr<Module> model_;
  std::vector<std::vector<float>> rows_;
};

// {"checkpoint", "logits": [[...] per test example]} (scripts/ort_eval.mjs --reference reads it).
void write_logits(const std::string& file, const std::string& checkpoint, const LogitRecorder& recorder) {
  const nlohmann::json data = {{"checkpoint", checkpoint}, {"logits", recorder.rows()}};
  write_file_atomically(file, data.dump() + "\n");
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
  if (is_packed_file(path)) {
    QAT_CHECK(!line.has("logits"), "qat eval: --logits takes a checkpoint, not the packed file ", path);
    return eval_packed(line, start);
  }
  const CheckpointModel loaded = load_checkpoint_model(path, line.overrides);
  const Checkpoint& checkpoint = loaded.checkpoint;
  const config::Experiment& e = loaded.experiment;
  const auto& model = loaded.model;
  const QuantizedModel& quantized = loaded.quantized;
  const auto data = make_pipeline(e, checkpoint.assets);
  const std::string logits = line.get("logits");
  LogitRecorder recorder(model);
  const Evaluation test = evaluate_model(
      logits.empty() ? static_cast<Module&>(*model) : recorder, data->test(),
      [](const Variable& output, const Tensor& targets) { return classification_loss(output, targets); });
  if (!logits.empty()) write_logits(logits, path, recorder);
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
