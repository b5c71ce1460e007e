#include "experiments/train_command.h"

#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>

#include "datasets/data_loader.h"
#include "datasets/fashion_mnist.h"
#include "engine/error.h"
#include "engine/random.h"
#include "experiments/config_loader.h"
#include "experiments/json_line.h"
#include "experiments/model_factory.h"
#include "trainers/image_batches.h"
#include "trainers/sgd.h"
#include "trainers/trainer.h"

namespace qat {
namespace {

ImageDataset load_split(const config::DataConfig& data, const std::string& split) {
  QAT_CHECK(data.dataset() == "fashion_mnist", "data.dataset: unsupported dataset '", data.dataset(),
            "' (known: fashion_mnist)");
  const ImageDataset full =
      data.dir().empty() ? load_fashion_mnist(split) : load_fashion_mnist(split, data.dir());
  return full.first(split == "train" ? data.train_limit() : data.test_limit());
}

DataLoaderOptions loader_options(const config::Experiment& e, bool training) {
  const auto& d = e.data();
  return {.batch_size = training ? e.train().batch_size() : e.train().eval_batch_size(),
          .shuffle = training,
          .drop_last = training,
          .seed = e.seed(),
          .crop_padding = training ? d.crop_padding() : 0,
          .flip = training && d.flip(),
          .mean = {d.mean().begin(), d.mean().end()},
          .stddev = {d.std().begin(), d.std().end()}};
}

// Weight decay applies to conv and linear weights only (biases, norms and scalars are 1-D).
std::vector<ParamGroup> parameter_groups(const Module& model, float weight_decay) {
  ParamGroup decayed{.params = {}, .weight_decay = weight_decay}, plain{.params = {}, .weight_decay = 0.0f};
  for (const auto& [name, param] : model.named_parameters())
    (param.ndim() > 1 ? decayed : plain).params.push_back(param);
  return {decayed, plain};
}

LrScheduleOptions schedule_options(const config::TrainConfig& t) {
  QAT_CHECK(t.schedule() == "cosine" || t.schedule() == "constant", "train.schedule: unknown schedule '",
            t.schedule(), "' (known: cosine, constant)");
  return {
      .kind = t.schedule() == "cosine" ? LrScheduleOptions::Kind::cosine : LrScheduleOptions::Kind::constant,
      .base_lr = t.lr(),
      .warmup_epochs = t.warmup_epochs(),
      .warmup_start = 0.1f,
      .final_fraction = 0.0f,
      .milestones = {},
      .gamma = 1.0f};
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  std::ofstream(temporary) << text << '\n';
  std::filesystem::rename(temporary, path);
}

}  // namespace

std::string run_train(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat train: expected one CONFIG argument");
  const config::Experiment e = load_experiment(line.positional[0], line.overrides);
  manual_seed(e.seed());
  const ImageDataset train_set = load_split(e.data(), "train"), test_set = load_split(e.data(), "test");
  DataLoader train_loader(train_set, loader_options(e, true)),
      test_loader(test_set, loader_options(e, false));
  ImageBatches train(train_loader), test(test_loader);

  const auto model = build_model(e.model());
  Sgd sgd(parameter_groups(*model, e.train().weight_decay()),
          {.lr = e.train().lr(), .momentum = e.train().momentum(), .nesterov = e.train().nesterov()});
  std::string config_text;
  google::protobuf::TextFormat::PrintToString(e, &config_text);
  const std::string out = line.get("out");
  Trainer trainer(*model, sgd,
                  {.epochs = e.train().epochs(),
                   .schedule = schedule_options(e.train()),
                   .out_dir = out,
                   .resume = line.has("resume"),
                   .stop_after = std::stoi(line.get("stop-after", "0")),
                   .label = "train",
                   .config_text = config_text});
  const TrainSummary summary = trainer.fit(train, test);

  JsonLine result;
  result.add("command", "train")
      .add("name", e.name())
      .add("model", e.model().arch())
      .add("epochs", static_cast<int64_t>(e.train().epochs()))
      .add("train_examples", train_set.size())
      .add("test_examples", test_set.size())
      .add("test_accuracy", summary.final_test.accuracy)
      .add("test_loss", summary.final_test.loss)
      .add("best_test_accuracy", summary.best_test.accuracy)
      .add("best_epoch", static_cast<int64_t>(summary.best_epoch + 1))
      .add("final_train_loss", summary.final_train_loss)
      .add("seconds", summary.seconds);
  if (!out.empty()) write_atomically((std::filesystem::path(out) / "result.json").string(), result.str());
  return result.str();
}

}  // namespace qat
