#include "experiments/optimizer_factory.h"

#include "engine/error.h"
#include "trainers/adamw.h"
#include "trainers/sgd.h"

namespace qat {

std::vector<ParamGroup> parameter_groups(const Module& model, float weight_decay) {
  ParamGroup decayed{.params = {}, .weight_decay = weight_decay}, plain{.params = {}, .weight_decay = 0.0f};
  for (const auto& [name, param] : model.named_parameters())
    (param.ndim() > 1 ? decayed : plain).params.push_back(param);
  return {decayed, plain};
}

std::unique_ptr<Optimizer> build_optimizer(const Module& model, const config::TrainConfig& t) {
  auto groups = parameter_groups(model, t.weight_decay());
  if (t.optimizer() == "sgd")
    return std::make_unique<Sgd>(
        std::move(groups), SgdOptions{.lr = t.lr(), .momentum = t.momentum(), .nesterov = t.nesterov()});
  if (t.optimizer() == "adamw")
    return std::make_unique<AdamW>(
        std::move(groups),
        AdamWOptions{.lr = t.lr(), .beta1 = t.beta1(), .beta2 = t.beta2(), .eps = t.eps()});
  detail::fail("train.optimizer: unknown optimizer '", t.optimizer(), "' (known: sgd, adamw)");
}

LrScheduleOptions schedule_options(const config::TrainConfig& t) {
  using Kind = LrScheduleOptions::Kind;
  Kind kind = Kind::constant;
  if (t.schedule() == "cosine")
    kind = Kind::cosine;
  else if (t.schedule() == "step")
    kind = Kind::step;
  else
    QAT_CHECK(t.schedule() == "constant", "train.schedule: unknown schedule '", t.schedule(),
              "' (known: cosine, step, constant)");
  return {.kind = kind,
          .base_lr = t.lr(),
          .warmup_epochs = t.warmup_epochs(),
          .warmup_start = t.warmup_start(),
          .final_fraction = t.final_lr_fraction(),
          .milestones = {t.milestones().begin(), t.milestones().end()},
          .gamma = t.gamma()};
}

}  // namespace qat
