#include "trainers/losses.h"

#include "autograd/grad_mode.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "autograd/ops/softmax.h"
#include "engine/error.h"

namespace qat {

Variable classification_loss(const Variable& logits, const Tensor& targets, float label_smoothing) {
  if (logits.ndim() == 2) return cross_entropy(logits, targets, label_smoothing, kIgnoreIndex);
  return cross_entropy(reshape(logits, {-1, logits.dim(-1)}), targets.reshape({targets.numel()}),
                       label_smoothing, kIgnoreIndex);
}

Variable distillation_loss(const Variable& student_logits, const Tensor& teacher_logits, float temperature) {
  QAT_CHECK(student_logits.shape() == teacher_logits.shape(), "distillation_loss: student ",
            student_logits.str(), " and teacher ", teacher_logits.str(), " logits differ in shape");
  QAT_CHECK(temperature > 0.0f, "distillation_loss: temperature must be positive, got ", temperature);
  Tensor teacher_probs;
  {
    NoGrad no_grad;
    teacher_probs = softmax(Variable(teacher_logits) * (1.0f / temperature)).data();
  }
  const Variable log_student = log_softmax(student_logits * (1.0f / temperature));
  const Variable per_row = sum(log_student * Variable(teacher_probs), {-1});
  return mean(per_row) * (-temperature * temperature);
}

}  // namespace qat
