#pragma once
// Sgd: stochastic gradient descent with momentum, Nesterov and per-group weight decay.
#include "trainers/optimizer.h"

namespace qat {

/// SGD hyper-parameters (values come from the experiment config).
struct SgdOptions {
  float lr = 0.0f;
  float momentum = 0.0f;
  bool nesterov = false;
};

/// PyTorch-equivalent SGD: g = grad + wd·p; v = μ·v + g (v = g at the first step);
/// p −= lr·(g + μ·v) with Nesterov, else p −= lr·v.
class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ParamGroup> groups, const SgdOptions& options);
  void step() override;

 private:
  float momentum_;
  bool nesterov_;
};

}  // namespace qat
