#pragma once
// WeightEma: an exponential moving average of a model's parameters, for evaluation and checkpoints.
#include <map>
#include <string>
#include <vector>

#include "layers/module.h"

namespace qat {

/// Keeps shadow = decay·shadow + (1 − decay)·param after every step. Buffers (batch-norm statistics)
/// are not averaged: evaluation with the averaged weights uses the live model's buffers.
class WeightEma {
 public:
  WeightEma(Module& model, float decay);
  /// Folds the current parameters into the average.
  void update();
  /// Exchanges the model's parameters with the averages; calling it again restores them.
  void swap();
  /// The averages by parameter name, for checkpoints.
  std::map<std::string, Tensor> state() const;
  /// Restores what state() returned; every name and shape must match.
  void load_state(const std::map<std::string, Tensor>& state);

 private:
  std::vector<std::pair<std::string, Variable>> params_;
  std::vector<Tensor> shadow_;
  float decay_;
};

}  // namespace qat
