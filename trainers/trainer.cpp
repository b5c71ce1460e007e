#include "trainers/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/arithmetic.h"
#include "engine/error.h"
#include "engine/parse_number.h"
#include "engine/random.h"
#include "trainers/checkpoint.h"
#include "trainers/losses.h"
#include "trainers/metrics_log.h"
#include "trainers/non_finite_locator.h"
#include "trainers/progress.h"

namespace qat {
namespace {

std::string epoch_line(int epoch, const std::string& phase, double loss, double accuracy, double lr,
                       double seconds) {
  std::ostringstream out;
  out.precision(6);
  out << "{\"epoch\": " << epoch << ", \"phase\": \"" << phase << "\", \"loss\": " << loss;
  if (accuracy >= 0) out << ", \"accuracy\": " << accuracy;
  if (lr >= 0) out << ", \"lr\": " << lr;
  out << ", \"seconds\": " << seconds << "}";
  return out.str();
}

// One line of steps.jsonl; `step` counts from the start of training.
std::string step_line(int epoch, int64_t step, double loss, double lr) {
  std::ostringstream out;
  out.precision(6);
  out << "{\"epoch\": " << epoch << ", \"step\": " << step << ", \"loss\": " << loss << ", \"lr\": " << lr
      << "}";
  return out.str();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string path_in(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

}  // namespace

Trainer::Trainer(Module& model, Optimizer& optimizer, TrainerOptions options, LossFn loss)
    : model_(model),
      optimizer_(optimizer),
      options_(std::move(options)),
      loss_(std::move(loss)),
      communicator_(options_.communicator ? options_.communicator : &alone_) {
  if (!loss_)
    loss_ = [](const Variable& output, const Tensor& targets) {
      return classification_loss(output, targets);
    };
  broadcast_from_root(*communicator_, model_);  // before the EMA copies the weights
  if (communicator_->size() > 1)
    averager_ = std::make_unique<GradientAverager>(*communicator_, optimizer_.parameters());
  if (options_.ema_decay > 0.0f) ema_ = std::make_unique<WeightEma>(model_, options_.ema_decay);
}

double Trainer::train_epoch(BatchStream& train, int epoch, const MetricsLog& steps_log) {
  model_.train();
  const LrSchedule schedule(options_.schedule, options_.epochs);
  const int64_t steps = train.batches_per_epoch();
  std::optional<Progress> progress;  // rank 0 alone reports
  if (communicator_->is_root())
    progress.emplace(
        options_.label + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options_.epochs),
        steps);
  train.start_epoch(epoch);
  double total = 0.0;
  int64_t step = 0;
  for (Batch batch; train.next(batch); ++step) {
    optimizer_.set_lr(schedule.at(epoch + static_cast<double>(step) / steps));
    optimizer_.zero_grad();
    const Variable loss = step_loss(batch);
    if (averager_ && !replicas_synced_after_first_forward_) {
      // Quantizers initialize from their first batch, which differs between the ranks' shards: every rank
      // takes rank 0's values (this one step's gradients still come from each rank's own).
      broadcast_from_root(*communicator_, model_);
      replicas_synced_after_first_forward_ = true;
    }
    const double value = loss.data().item();
    if (!std::isfinite(value)) {  // before the update, so that the diagnosis sees this step's weights
      optimizer_.zero_grad();
      detail::fail(options_.label, ": loss became ", value, " at epoch ", epoch + 1, " step ", step + 1, ": ",
                   locate_non_finite(
                       model_, [&] { return step_loss(batch); }, optimizer_.lr()));
    }
    if (averager_) averager_->start_step();
    loss.backward();
    if (averager_) averager_->finish_step();
    if (options_.grad_clip_norm > 0.0f) optimizer_.clip_grad_norm(options_.grad_clip_norm);
    optimizer_.step();
    if (ema_) ema_->update();
    total += value;
    if (options_.log_every_steps > 0 && (step + 1) % options_.log_every_steps == 0)
      steps_log.append(step_line(epoch, epoch * steps + step + 1, value, optimizer_.lr()));
    if (progress) progress->step(total / static_cast<double>(step + 1), batch.targets.dim(0));
  }
  if (progress) progress->finish();
  // Normalization statistics are each rank's own (no synchronised batch norm): rank 0's, the ones its
  // checkpoints store, go to every rank so that all evaluate the same model.
  if (averager_) broadcast_buffers_from_root(*communicator_, model_);
  const double mean = step > 0 ? total / static_cast<double>(step) : 0.0;
  if (communicator_->size() == 1) return mean;
  // Every rank's shard has as many batches, so the mean of the ranks' means is the epoch's mean.
  auto across_ranks = static_cast<float>(mean);
  communicator_->average(std::span(&across_ranks, 1));
  return across_ranks;
}

Variable Trainer::step_loss(const Batch& batch) {
  const Variable output = model_.forward(Variable(batch.inputs));
  Variable loss = loss_(output, batch.targets);
  if (options_.teacher) {
    Tensor teacher_logits;
    {
      NoGrad no_grad;
      options_.teacher->eval();
      teacher_logits = options_.teacher->forward(Variable(batch.inputs)).data();
    }
    loss = loss + distillation_loss(output, teacher_logits, options_.distill_temperature);
  }
  if (options_.extra_loss) loss = loss + options_.extra_loss();
  return loss;
}

Evaluation Trainer::evaluate(BatchStream& data) {
  if (!ema_) return evaluate_model(model_, data, loss_);
  ema_->swap();
  const Evaluation result = evaluate_model(model_, data, loss_);
  ema_->swap();
  return result;
}

TrainSummary Trainer::fit(BatchStream& train, BatchStream& test) {
  const auto start = std::chrono::steady_clock::now();
  TrainSummary summary;
  if (writes_files()) std::filesystem::create_directories(options_.out_dir);
  const MetricsLog log(writes_files() ? path_in(options_.out_dir, "metrics.jsonl") : "");
  const MetricsLog steps_log(
      !writes_files() || options_.log_every_steps <= 0 ? "" : path_in(options_.out_dir, "steps.jsonl"));
  const int first = restore(summary);
  log.truncate_from_epoch(first);
  steps_log.truncate_from_epoch(first);
  const int last = options_.stop_after > 0 ? std::min(options_.stop_after, options_.epochs) : options_.epochs;
  for (int epoch = first; epoch < last; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    if (options_.on_epoch_start) options_.on_epoch_start(epoch);
    summary.final_train_loss = train_epoch(train, epoch, steps_log);
    log.append(epoch_line(epoch, options_.label, summary.final_train_loss, -1, optimizer_.lr(),
                          seconds_since(epoch_start)));
    summary.final_test = evaluate(test);
    log.append(epoch_line(epoch, "test", summary.final_test.loss, summary.final_test.accuracy, -1,
                          seconds_since(epoch_start)));
    if (summary.best_epoch < 0 || summary.final_test.accuracy > summary.best_test.accuracy) {
      summary.best_test = summary.final_test;
      summary.best_epoch = epoch;
      save("best.h5", epoch, summary);
    }
    save("last.h5", epoch, summary);
  }
  if (summary.final_test.samples == 0) summary.final_test = evaluate(test);
  if (last == options_.epochs) save_final_model(summary);
  summary.seconds = seconds_since(start);
  if (averager_ && communicator_->is_root())
    std::fprintf(stderr,
                 "%s: %d ranks, %zu gradient buckets (%lld bytes a step); %.2f s of %.2f s waiting for "
                 "their averages after backward\n",
                 options_.label.c_str(), communicator_->size(), averager_->buckets(),
                 static_cast<long long>(averager_->bytes_per_step()), averager_->wait_seconds(),
                 summary.seconds);
  return summary;
}

// model.h5: the trained weights (the averages when keeping an EMA) without optimizer state — the small
// file to evaluate, quantize or export.
void Trainer::save_final_model(const TrainSummary& summary) {
  if (!writes_files()) return;
  if (ema_) ema_->swap();
  Checkpoint checkpoint{
      .model = model_.state_dict(), .optimizer = {}, .ema = {}, .assets = options_.assets, .meta = {}};
  if (ema_) ema_->swap();
  checkpoint.meta = {{"epoch", std::to_string(options_.epochs - 1)},
                     {"test_accuracy", std::to_string(summary.final_test.accuracy)},
                     {"config", options_.config_text}};
  checkpoint.meta.insert(options_.meta.begin(), options_.meta.end());
  save_checkpoint(path_in(options_.out_dir, "model.h5"), checkpoint);
}

void Trainer::save(const std::string& name, int epoch, const TrainSummary& summary) {
  if (!writes_files()) return;
  Checkpoint checkpoint{.model = model_.state_dict(),
                        .optimizer = optimizer_.state(),
                        .ema = ema_ ? ema_->state() : std::map<std::string, Tensor>{},
                        .assets = options_.assets,
                        .meta = {}};
  checkpoint.meta = {{"epoch", std::to_string(epoch)},
                     {"rng", global_generator().state()},
                     {"final_train_loss", std::to_string(summary.final_train_loss)},
                     {"best_epoch", std::to_string(summary.best_epoch)},
                     {"best_accuracy", std::to_string(summary.best_test.accuracy)},
                     {"config", options_.config_text}};
  checkpoint.meta.insert(options_.meta.begin(), options_.meta.end());
  save_checkpoint(path_in(options_.out_dir, name), checkpoint);
}

int Trainer::restore(TrainSummary& summary) {
  const std::string path = options_.out_dir.empty() ? "" : path_in(options_.out_dir, "last.h5");
  if (!options_.resume || path.empty() || !std::filesystem::exists(path)) return 0;
  const Checkpoint checkpoint = load_checkpoint(path);
  model_.load_state_dict(checkpoint.model);
  optimizer_.load_state(checkpoint.optimizer);
  if (ema_) ema_->load_state(checkpoint.ema);
  auto meta = [&](const char* key) {
    auto it = checkpoint.meta.find(key);
    QAT_CHECK(it != checkpoint.meta.end(), "checkpoint ", path, ": missing attribute '", key, "'");
    return it->second;
  };
  auto number = [&](const char* key) { return parse_double(meta(key), "checkpoint " + path + ": " + key); };
  global_generator().set_state(meta("rng"));
  summary.final_train_loss = number("final_train_loss");
  summary.best_epoch = static_cast<int>(number("best_epoch"));
  summary.best_test.accuracy = number("best_accuracy");
  const auto epoch = parse_int(meta("epoch"), "checkpoint " + path + ": epoch");
  QAT_CHECK(epoch >= 0 && epoch < options_.epochs, "checkpoint ", path, ": epoch ", epoch,
            " is outside the run's 0..", options_.epochs - 1);
  std::fprintf(stderr, "%s: resuming from %s after epoch %lld\n", options_.label.c_str(), path.c_str(),
               static_cast<long long>(epoch));
  return static_cast<int>(epoch) + 1;
}

}  // namespace qat
