#pragma once
// Trainer: epochs of forward → loss → backward → step, evaluation, checkpoints, metrics and resume.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "layers/module.h"
#include "trainers/batch_stream.h"
#include "trainers/communicator.h"
#include "trainers/evaluation.h"
#include "trainers/gradient_averager.h"
#include "trainers/lr_schedule.h"
#include "trainers/metrics_log.h"
#include "trainers/optimizer.h"
#include "trainers/single_process_communicator.h"
#include "trainers/weight_ema.h"

namespace qat {

/// How a run trains (values come from the experiment config).
struct TrainerOptions {
  int epochs = 0;
  LrScheduleOptions schedule;
  std::string out_dir;          ///< where metrics.jsonl, last.h5 and best.h5 go ("" = nowhere)
  bool resume = false;          ///< continue from out_dir/last.h5 when it exists
  int stop_after = 0;           ///< stop (checkpointed) once this many epochs are done; 0 = run all
  std::string label = "train";  ///< phase name in metrics and progress lines
  std::string config_text;      ///< the experiment config, stored in checkpoints
  float grad_clip_norm = 0.0f;  ///< clip the global gradient norm to this (0 = off)
  float ema_decay = 0.0f;       ///< evaluate and keep an EMA of the weights with this decay (0 = off)
  std::map<std::string, Tensor> assets;  ///< stored in every checkpoint (e.g. the tokenizer)
  std::map<std::string, std::string>
      meta;  ///< attributes stored in every checkpoint beside the trainer's own
  /// Added to the loss at every training step (e.g. a quantizer's cost constraint); unset = nothing.
  std::function<Variable()> extra_loss;
  /// Knowledge distillation: the teacher's logits for the same batch (evaluation mode, no gradient)
  /// add distillation_loss(output, teacher logits, distill_temperature) to the loss.
  Module* teacher = nullptr;
  float distill_temperature = 1.0f;
  /// Called before every epoch, also on resume (e.g. to switch to a final phase); unset = nothing.
  std::function<void(int epoch)> on_epoch_start;
  /// Every this many steps, a line {"epoch", "step", "loss", "lr"} in out_dir/steps.jsonl (0 = off).
  int log_every_steps = 0;
  /// The ranks of a data-parallel run (null = this process alone). Every rank starts from rank 0's
  /// weights and random state, gradients are averaged over the ranks, and rank 0 alone writes files.
  Communicator* communicator = nullptr;
};

/// What fit() returns.
struct TrainSummary {
  Evaluation final_test;
  Evaluation best_test;
  double final_train_loss = 0.0;
  int best_epoch = -1;
  double seconds = 0.0;
};

/// Trains a model with one optimizer; checkpoints after every epoch (last.h5, best.h5) so a killed run
/// resumes exactly, and writes the final weights alone to model.h5 when the run completes. With several
/// ranks, each reads its own shard of every batch (the BatchStream's business) and the Trainer keeps the
/// replicas equal.
class Trainer {
 public:
  Trainer(Module& model, Optimizer& optimizer, TrainerOptions options, LossFn loss = {});
  /// Runs the remaining epochs, evaluating on `test` after each.
  TrainSummary fit(BatchStream& train, BatchStream& test);
  /// Loss and accuracy of the model in evaluation mode (with the averaged weights when keeping an EMA).
  Evaluation evaluate(BatchStream& data);

 private:
  double train_epoch(BatchStream& train, int epoch, const MetricsLog& steps_log);
  Variable step_loss(const Batch& batch);
  void save(const std::string& name, int epoch, const TrainSummary& summary);
  void save_final_model(const TrainSummary& summary);
  int restore(TrainSummary& summary);

  bool writes_files() const { return !options_.out_dir.empty() && communicator_->is_root(); }

  Module& model_;
  Optimizer& optimizer_;
  TrainerOptions options_;
  LossFn loss_;
  SingleProcessCommunicator alone_;
  Communicator* communicator_;
  std::unique_ptr<GradientAverager> averager_;  ///< with more than one rank
  bool replicas_synced_after_first_forward_ = false;
  std::unique_ptr<WeightEma> ema_;
};

}  // namespace qat
