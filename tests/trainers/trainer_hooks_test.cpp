// Trainer hooks: distillation pulls the student to the teacher, the extra loss is minimized too, and the
// epoch callback sees every epoch.
#include <gtest/gtest.h>

#include "autograd/ops/arithmetic.h"
#include "autograd/ops/reduce.h"
#include "engine/random.h"
#include "layers/linear.h"
#include "trainers/sgd.h"
#include "trainers/trainer.h"

namespace qat {
namespace {

// Four fixed batches of 8 random 3-feature inputs with labels 0/1.
class FixedBatches : public BatchStream {
 public:
  FixedBatches() {
    Generator gen(1);
    for (int b = 0; b < 4; ++b) {
      Tensor y = Tensor::empty({8}, DType::s32);
      for (int i = 0; i < 8; ++i) y.data<int32_t>()[i] = static_cast<int32_t>(gen.below(2));
      batches_.push_back({gen.normal_tensor({8, 3}), y});
    }
  }
  void start_epoch(int) override { next_ = 0; }
  bool next(Batch& batch) override {
    if (next_ == batches_.size()) return false;
    batch = batches_[next_++];
    return true;
  }
  int64_t batches_per_epoch() const override { return static_cast<int64_t>(batches_.size()); }

 private:
  std::vector<Batch> batches_;
  size_t next_ = 0;
};

TEST(TrainerHooks, DistillationExtraLossAndEpochCallback) {
  manual_seed(2);
  Linear teacher({.in = 3, .out = 2}), student({.in = 3, .out = 2});
  Sgd sgd({{.params = student.parameters(), .weight_decay = 0.0f}},
          {.lr = 0.2f, .momentum = 0.0f, .nesterov = false});
  std::vector<int> epochs;
  Variable bias = student.bias();
  TrainerOptions options{.epochs = 30,
                         .schedule = {.kind = LrScheduleOptions::Kind::constant, .base_lr = 0.2f}};
  options.teacher = &teacher;
  options.distill_temperature = 2.0f;
  // Pulls the sum of the student's biases to 10: a direction distillation is blind to (softmax ignores a
  // shift shared by all logits), so the two terms do not compete.
  options.extra_loss = [&] {
    const Variable excess = sum(bias) - 10.0f;
    return excess * excess;
  };
  options.on_epoch_start = [&](int epoch) { epochs.push_back(epoch); };
  // Zero classification loss isolates distillation and the extra loss.
  Trainer trainer(student, sgd, options, [](const Variable& out, const Tensor&) { return sum(out) * 0.0f; });
  FixedBatches data;
  trainer.fit(data, data);
  EXPECT_EQ(epochs.size(), 30u);
  EXPECT_EQ(epochs.back(), 29);
  const std::vector<float> b = student.bias().data().to_vector(), bt = teacher.bias().data().to_vector();
  EXPECT_NEAR(b[0] + b[1], 10.0f, 0.01f);
  // Distillation made the student's logit differences follow the teacher's.
  EXPECT_NEAR(b[0] - b[1], bt[0] - bt[1], 0.1f);
  const std::vector<float> ws = student.weight().data().to_vector(), wt = teacher.weight().data().to_vector();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(ws[i] - ws[3 + i], wt[i] - wt[3 + i], 0.1f) << i;
}

}  // namespace
}  // namespace qat
