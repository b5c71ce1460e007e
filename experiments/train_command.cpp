#include "experiments/train_command.h"

#include <google/protobuf/text_format.h>

#include <filesystem>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/random.h"
#include "experiments/config_loader.h"
#include "experiments/image_pipeline.h"
#include "experiments/json_line.h"
#include "experiments/model_factory.h"
#include "experiments/optimizer_factory.h"
#include "trainers/checkpoint.h"
#include "trainers/losses.h"
#include "trainers/trainer.h"

namespace qat {
namespace {

// Starts from a checkpoint's weights; entries the model has beyond them (quantizer scalars) keep their init.
void load_initial_weights(Module& model, const std::string& path) {
  if (path.empty()) return;
  model.load_state_dict(load_checkpoint(path).model, true);
}

TrainerOptions trainer_options(const config::Experiment& e, const CommandLine& line) {
  std::string config_text;
  google::protobuf::TextFormat::PrintToString(e, &config_text);
  return {.epochs = e.train().epochs(),
          .schedule = schedule_options(e.train()),
          .out_dir = line.get("out"),
          .resume = line.has("resume"),
          .stop_after = std::stoi(line.get("stop-after", "0")),
          .label = "train",
          .config_text = config_text,
          .grad_clip_norm = e.train().grad_clip_norm(),
          .ema_decay = e.train().ema_decay()};
}

}  // namespace

std::string run_train(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat train: expected one CONFIG argument");
  const config::Experiment e = load_experiment(line.positional[0], line.overrides);
  QAT_CHECK(e.quant().method() == "none", "quant.method: '", e.quant().method(),
            "' is not available (known: none)");
  manual_seed(e.seed());
  ImagePipeline data(e);
  const auto model = build_model(e.model());
  load_initial_weights(*model, e.init_checkpoint());
  const auto optimizer = build_optimizer(*model, e.train());
  const float smoothing = e.train().label_smoothing();
  Trainer trainer(*model, *optimizer, trainer_options(e, line),
                  [smoothing](const Variable& output, const Tensor& targets) {
                    return classification_loss(output, targets, smoothing);
                  });
  const TrainSummary summary = trainer.fit(data.train(), data.test());

  JsonLine result;
  result.add("command", "train")
      .add("name", e.name())
      .add("model", e.model().arch())
      .add("epochs", static_cast<int64_t>(e.train().epochs()))
      .add("train_examples", data.train_size())
      .add("test_examples", data.test_size())
      .add("test_accuracy", summary.final_test.accuracy)
      .add("test_loss", summary.final_test.loss)
      .add("best_test_accuracy", summary.best_test.accuracy)
      .add("best_epoch", static_cast<int64_t>(summary.best_epoch + 1))
      .add("final_train_loss", summary.final_train_loss)
      .add("seconds", summary.seconds);
  const std::string out = line.get("out");
  if (!out.empty())
    write_file_atomically((std::filesystem::path(out) / "result.json").string(), result.str() + "\n");
  return result.str();
}

}  // namespace qat
