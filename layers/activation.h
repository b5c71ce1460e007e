#pragma once
// Activation: a parameterless element-wise layer (ReLU, ReLU6, GELU, hardswish, sigmoid, tanh).
#include "layers/module.h"

namespace qat {

/// Which element-wise function an Activation applies.
enum class ActivationKind { relu, relu6, gelu, hardswish, sigmoid, tanh };

/// Applies one activation function.
class Activation : public Module {
 public:
  explicit Activation(ActivationKind kind) : kind_(kind) {}
  Variable forward(const Variable& x) override;
  /// The function applied.
  ActivationKind kind() const { return kind_; }

 private:
  ActivationKind kind_;
};

}  // namespace qat
