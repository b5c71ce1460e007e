#pragma once
// Training losses: classification / masked-LM cross-entropy and knowledge distillation.
#include "autograd/variable.h"

namespace qat {

/// Targets equal to this are not scored (MLM positions that were not masked, padding).
constexpr int kIgnoreIndex = -100;

/// Cross-entropy over the last dimension: logits [N, C] against targets [N], or sequence logits
/// [B, T, V] against targets [B, T] scored per position (the masked-LM loss).
Variable classification_loss(const Variable& logits, const Tensor& targets, float label_smoothing = 0.0f);

/// Knowledge distillation (Hinton et al. 2015): T²·mean over rows of −Σ softmax(t/T)·log_softmax(s/T),
/// where t are the teacher's logits (no gradient) and s the student's; the T² keeps gradient magnitudes
/// independent of the temperature.
Variable distillation_loss(const Variable& student_logits, const Tensor& teacher_logits,
                           float temperature = 1.0f);

}  // namespace qat
