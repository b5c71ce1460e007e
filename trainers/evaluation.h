#pragma once
// Evaluation of a model over a batch stream: mean loss and accuracy.
#include <functional>

#include "layers/module.h"
#include "trainers/batch_stream.h"

namespace qat {

/// Loss of a model output against integer targets (cross-entropy by default).
using LossFn = std::function<Variable(const Variable& output, const Tensor& targets)>;

/// Loss and accuracy over a data set.
struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;  ///< fraction of targets (other than the ignore index) predicted right
  int64_t samples = 0;    ///< targets counted (positions for sequence outputs)
};

/// Runs one pass of `data` in evaluation mode without recording gradients; the model is left in
/// training mode afterwards.
Evaluation evaluate_model(Module& model, BatchStream& data, const LossFn& loss);

}  // namespace qat
