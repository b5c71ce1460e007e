#include "experiments/train_command.h"

#include <google/protobuf/text_format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/random.h"
#include "experiments/config_loader.h"
#include "experiments/data_pipeline.h"
#include "experiments/json_line.h"
#include "experiments/model_factory.h"
#include "experiments/model_layout.h"
#include "experiments/optimizer_factory.h"
#include "experiments/output_location.h"
#include "experiments/precision_config.h"
#include "experiments/quant_setup.h"
#include "experiments/resume_check.h"
#include "trainers/checkpoint.h"
#include "trainers/communicator.h"
#include "trainers/losses.h"
#include "trainers/trainer.h"

namespace qat {
namespace {

// The top-level module of a state-dict entry ("layer1.0.conv1.weight" -> "layer1").
std::string top_module(const std::string& name) { return name.substr(0, name.find('.')); }

// Copies the checkpoint tensors whose names the model has; a checkpoint tensor of the wrong shape is an
// error. Entries the model needs must all load, except whole top-level modules the checkpoint does not
// have (a new head, e.g. a classifier fine-tuned from a masked-LM model); checkpoint entries the model
// lacks are reported (e.g. the MLM head then).
void load_matching(Module& model, const std::map<std::string, Tensor>& weights, const std::string& path) {
  const std::map<std::string, Tensor> own = model.state_dict();
  std::map<std::string, Tensor> used;
  std::set<std::string> present;
  for (const auto& [name, tensor] : weights) {
    present.insert(top_module(name));
    if (own.count(name)) used.emplace(name, tensor);
  }
  QAT_CHECK(!used.empty(), "init_checkpoint ", path, ": none of the model's ", own.size(),
            " tensors is in it (a checkpoint of another model.arch?)");
  std::string missing;
  size_t count = 0;
  for (const auto& [name, tensor] : own)
    if (!weights.count(name) && present.count(top_module(name)) && ++count <= 8)
      missing += (missing.empty() ? "" : ", ") + name;
  QAT_CHECK(count == 0, "init_checkpoint ", path, ": ", count, " tensors the model needs are missing (",
            missing, count > 8 ? ", ..." : "", ")");
  model.load_state_dict(used, true);
  std::fprintf(stderr, "train: %zu of the model's %zu tensors from %s (%zu checkpoint tensors unused)\n",
               used.size(), own.size(), path.c_str(), weights.size() - used.size());
}

TrainerOptions trainer_options(const config::Experiment& e, const CommandLine& line) {
  std::string config_text;
  google::protobuf::TextFormat::PrintToString(e, &config_text);
  return {.epochs = e.train().epochs(),
          .schedule = schedule_options(e.train()),
          .out_dir = line.get("out"),
          .resume = line.has("resume"),
          .stop_after = static_cast<int>(line.get_int("stop-after", 0, 1, std::numeric_limits<int>::max())),
          .label = "train",
          .config_text = config_text,
          .grad_clip_norm = e.train().grad_clip_norm(),
          .ema_decay = e.train().ema_decay(),
          .assets = {},
          .meta = model_layout_meta(e.model()),
          .extra_loss = {},
          .teacher = nullptr,
          .distill_temperature = 1.0f,
          .on_epoch_start = {},
          .log_every_steps = e.train().log_every_steps()};
}

// The full-precision teacher of quant.distill: quant.teacher_checkpoint, else the init checkpoint.
std::shared_ptr<Module> distillation_teacher(const config::Experiment& e, const Checkpoint& init) {
  if (!e.quant().distill()) return nullptr;
  const std::string& path = e.quant().teacher_checkpoint();
  QAT_CHECK(!path.empty() || !e.init_checkpoint().empty(),
            "quant.distill: needs quant.teacher_checkpoint or init_checkpoint");
  const Checkpoint loaded = path.empty() ? Checkpoint{} : load_checkpoint_for(path, e.model());
  auto teacher = build_model(e.model());
  teacher->load_state_dict(path.empty() ? init.model : loaded.model);
  teacher->eval();
  return teacher;
}

// --out: refused onto an earlier run unless resumed (with the same config) or overwritten.
void prepare_run_directory(const CommandLine& line, const config::Experiment& e) {
  const std::string out = line.get("out");
  QAT_CHECK(!out.empty() || !line.has("resume"), "--resume needs --out DIR (the run to continue)");
  QAT_CHECK(!out.empty() || !line.has("overwrite"), "--overwrite needs --out DIR");
  if (out.empty()) return;
  // The files a run writes into --out DIR.
  const std::vector<std::string> run_files{"last.h5",       "best.h5",     "model.h5",
                                           "metrics.jsonl", "steps.jsonl", "result.json"};
  prepare_output_directory(out, run_files, {.resume = line.has("resume"), .overwrite = line.has("overwrite")},
                           "last.h5");
  if (line.has("resume")) check_resume_config((std::filesystem::path(out) / "last.h5").string(), e);
}

}  // namespace

std::string run_train(const CommandLine& line) {
  QAT_CHECK(line.positional.size() == 1, "qat train: expected one CONFIG argument");
  const config::Experiment e = load_experiment(line.positional[0], line.overrides);
  prepare_run_directory(line, e);
  if (e.quant().method() != "none") quant_policy(e.quant());  // config errors before any data is read
  const PrecisionScope precision(precision_of(e.train()));
  manual_seed(e.seed());
  const Checkpoint init =
      e.init_checkpoint().empty() ? Checkpoint{} : load_checkpoint_for(e.init_checkpoint(), e.model());
  Communicator& world = world_communicator();
  world.set_timeout(e.train().collective_timeout_seconds());
  const auto data = make_pipeline(e, init.assets, {.rank = world.rank(), .ranks = world.size()});
  const auto model = build_model(e.model());
  // Entries the model has beyond the checkpoint's (quantizer scalars, a new head) keep their init.
  if (!e.init_checkpoint().empty()) load_matching(*model, init.model, e.init_checkpoint());
  data->check_model_input(*model);
  QAT_CHECK(data->train().batches_per_epoch() > 0, "train.batch_size: ", e.train().batch_size(),
            " exceeds the ", data->train_size(),
            " training examples, so an epoch has no batch (lower it or raise ", "data.train_limit)");
  const QuantizedModel quantized = quantize_model(*model, e.quant());
  const auto optimizer = build_optimizer(*model, e.train());
  const float smoothing = e.train().label_smoothing();
  TrainerOptions options = trainer_options(e, line);
  options.assets = data->assets();
  options.communicator = &world;
  const auto teacher = distillation_teacher(e, init);
  options.teacher = teacher.get();
  options.distill_temperature = e.quant().distill_temperature();
  if (!quantized.layers.empty()) add_quant_hooks(options, quantized, e);
  Trainer trainer(*model, *optimizer, options, [smoothing](const Variable& output, const Tensor& targets) {
    return classification_loss(output, targets, smoothing);
  });
  const TrainSummary summary = trainer.fit(data->train(), data->test());

  JsonLine result;
  result.add("command", "train")
      .add("name", e.name())
      .add("model", e.model().arch())
      .add("epochs", static_cast<int64_t>(e.train().epochs()))
      .add("train_examples", data->train_size())
      .add("test_examples", data->test_size())
      .add("test_accuracy", summary.final_test.accuracy)
      .add("test_loss", summary.final_test.loss)
      .add("test_perplexity", std::exp(summary.final_test.loss))
      .add("best_test_accuracy", summary.best_test.accuracy)
      .add("best_epoch", static_cast<int64_t>(summary.best_epoch) + 1)
      .add("final_train_loss", summary.final_train_loss)
      .add("seconds", summary.seconds);
  for (const auto& [name, value] : data->reference_figures()) result.add(name, value);
  if (!quantized.layers.empty()) add_cost(result, quantized);
  const std::string out = line.get("out");
  if (!out.empty() && world.is_root())
    write_file_atomically((std::filesystem::path(out) / "result.json").string(), result.str() + "\n");
  return result.str();
}

}  // namespace qat
