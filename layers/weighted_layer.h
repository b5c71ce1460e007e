#pragma once
// WeightedLayer: a layer whose forward is forward_with(x, weight, bias), so a decorator can pass a
// transformed (e.g. quantized) weight without the layer knowing.
#include "layers/module.h"

namespace qat {

/// Base of Conv2d and Linear.
class WeightedLayer : public Module {
 public:
  /// forward_with(x, weight(), bias()).
  Variable forward(const Variable& x) override { return forward_with(x, weight_, bias_); }
  /// The layer's computation with the given weight and bias (bias may be undefined).
  virtual Variable forward_with(const Variable& x, const Variable& weight, const Variable& bias) = 0;
  /// The weight parameter.
  const Variable& weight() const { return weight_; }
  /// The bias parameter (undefined when the layer has none).
  const Variable& bias() const { return bias_; }

 protected:
  /// Registers "weight" and, when `bias` is defined, "bias".
  void register_weight_and_bias(Tensor weight, Tensor bias);

 private:
  Variable weight_;
  Variable bias_;
};

}  // namespace qat
