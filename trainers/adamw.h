#pragma once
// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch semantics.
#include "trainers/optimizer.h"

namespace qat {

/// AdamW hyper-parameters (values come from the experiment config).
struct AdamWOptions {
  float lr = 0.0f;
  float beta1 = 0.0f;
  float beta2 = 0.0f;
  float eps = 0.0f;
};

/// p −= lr·wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= lr·m̂/(sqrt(v̂) + eps), bias-corrected.
class AdamW : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options);
  void step() override;

 private:
  AdamWOptions options_;
};

}  // namespace qat
