#include "trainers/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/shape.h"
#include "engine/error.h"
#include "engine/random.h"
#include "trainers/checkpoint.h"
#include "trainers/metrics_log.h"
#include "trainers/progress.h"

namespace qat {
namespace {

constexpr int kIgnoreIndex = -100;

// Cross-entropy over the last dimension; sequence outputs [B, T, V] are scored per position.
Variable cross_entropy_loss(const Variable& output, const Tensor& targets) {
  if (output.ndim() == 2) return cross_entropy(output, targets);
  return cross_entropy(reshape(output, {-1, output.dim(-1)}), targets.reshape({targets.numel()}));
}

// (right, counted): argmax of each row of `logits` against its target, skipping the ignore index.
std::pair<int64_t, int64_t> count_correct(const Tensor& logits, const Tensor& targets) {
  const Tensor plain = logits.contiguous();
  const int64_t classes = plain.dim(-1);
  const float* rows = plain.data<float>();
  const int32_t* labels = targets.data<int32_t>();
  int64_t right = 0, counted = 0;
  for (int64_t r = 0; r < targets.numel(); ++r) {
    if (labels[r] == kIgnoreIndex) continue;
    const float* row = rows + r * classes;
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (row[c] > row[best]) best = c;
    right += best == labels[r];
    ++counted;
  }
  return {right, counted};
}

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

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string path_in(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

}  // namespace

Trainer::Trainer(Module& model, Optimizer& optimizer, TrainerOptions options, LossFn loss)
    : model_(model), optimizer_(optimizer), options_(std::move(options)), loss_(std::move(loss)) {
  if (!loss_) loss_ = cross_entropy_loss;
}

double Trainer::train_epoch(BatchStream& train, int epoch) {
  model_.train();
  const LrSchedule schedule(options_.schedule, options_.epochs);
  const int64_t steps = train.batches_per_epoch();
  Progress progress(
      options_.label + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options_.epochs), steps);
  train.start_epoch(epoch);
  double total = 0.0;
  int64_t step = 0;
  for (Batch batch; train.next(batch); ++step) {
    optimizer_.set_lr(schedule.at(epoch + static_cast<double>(step) / steps));
    optimizer_.zero_grad();
    const Variable loss = loss_(model_.forward(Variable(batch.inputs)), batch.targets);
    loss.backward();
    optimizer_.step();
    const double value = loss.data().item();
    QAT_CHECK(std::isfinite(value), options_.label, ": loss became ", value, " at epoch ", epoch + 1,
              " step ", step + 1);
    total += value;
    progress.step(total / static_cast<double>(step + 1), batch.targets.dim(0));
  }
  progress.finish();
  return step > 0 ? total / static_cast<double>(step) : 0.0;
}

Evaluation Trainer::evaluate(BatchStream& data) {
  NoGrad no_grad;
  model_.eval();
  data.start_epoch(0);
  double loss_sum = 0.0;
  int64_t right = 0, counted = 0;
  for (Batch batch; data.next(batch);) {
    const Variable output = model_.forward(Variable(batch.inputs));
    const auto [batch_right, batch_counted] = count_correct(output.data(), batch.targets);
    if (batch_counted == 0) continue;
    loss_sum += loss_(output, batch.targets).data().item() * static_cast<double>(batch_counted);
    right += batch_right;
    counted += batch_counted;
  }
  model_.train();
  if (counted == 0) return {};
  return {.loss = loss_sum / counted, .accuracy = static_cast<double>(right) / counted, .samples = counted};
}

TrainSummary Trainer::fit(BatchStream& train, BatchStream& test) {
  const auto start = std::chrono::steady_clock::now();
  TrainSummary summary;
  if (!options_.out_dir.empty()) std::filesystem::create_directories(options_.out_dir);
  const MetricsLog log(options_.out_dir.empty() ? "" : path_in(options_.out_dir, "metrics.jsonl"));
  const int first = restore(summary);
  log.truncate_from_epoch(first);
  const int last = options_.stop_after > 0 ? std::min(options_.stop_after, options_.epochs) : options_.epochs;
  for (int epoch = first; epoch < last; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    summary.final_train_loss = train_epoch(train, epoch);
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
  summary.seconds = seconds_since(start);
  return summary;
}

void Trainer::save(const std::string& name, int epoch, const TrainSummary& summary) {
  if (options_.out_dir.empty()) return;
  Checkpoint checkpoint{.model = model_.state_dict(), .optimizer = optimizer_.state(), .meta = {}};
  checkpoint.meta = {{"epoch", std::to_string(epoch)},
                     {"rng", global_generator().state()},
                     {"final_train_loss", std::to_string(summary.final_train_loss)},
                     {"best_epoch", std::to_string(summary.best_epoch)},
                     {"best_accuracy", std::to_string(summary.best_test.accuracy)},
                     {"config", options_.config_text}};
  save_checkpoint(path_in(options_.out_dir, name), checkpoint);
}

int Trainer::restore(TrainSummary& summary) {
  const std::string path = options_.out_dir.empty() ? "" : path_in(options_.out_dir, "last.h5");
  if (!options_.resume || path.empty() || !std::filesystem::exists(path)) return 0;
  const Checkpoint checkpoint = load_checkpoint(path);
  model_.load_state_dict(checkpoint.model);
  optimizer_.load_state(checkpoint.optimizer);
  auto meta = [&](const char* key) {
    auto it = checkpoint.meta.find(key);
    QAT_CHECK(it != checkpoint.meta.end(), "checkpoint ", path, ": missing attribute '", key, "'");
    return it->second;
  };
  global_generator().set_state(meta("rng"));
  summary.final_train_loss = std::stod(meta("final_train_loss"));
  summary.best_epoch = std::stoi(meta("best_epoch"));
  summary.best_test.accuracy = std::stod(meta("best_accuracy"));
  std::fprintf(stderr, "%s: resuming from %s after epoch %s\n", options_.label.c_str(), path.c_str(),
               meta("epoch").c_str());
  return std::stoi(meta("epoch")) + 1;
}

}  // namespace qat
