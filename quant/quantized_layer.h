#pragma once
// QuantizedLayer: the decorator that runs a Conv2d/Linear on a quantized input and a quantized weight
// through forward_with; the wrapped layer keeps its code and its parameter names.
#include <functional>
#include <memory>

#include "layers/weighted_layer.h"
#include "quant/quantizer.h"

namespace qat {

/// Children: the layer under the empty name (so its parameters keep their names), "wq" and "aq".
class QuantizedLayer : public Module {
 public:
  /// Either quantizer may be null (that side stays in full precision).
  QuantizedLayer(std::shared_ptr<WeightedLayer> layer, std::shared_ptr<Quantizer> weight_quantizer,
                 std::shared_ptr<Quantizer> input_quantizer);
  Variable forward(const Variable& x) override;
  /// The wrapped layer.
  WeightedLayer& layer() const { return *layer_; }
  /// The weight quantizer (null when the weight stays in full precision).
  Quantizer* weight_quantizer() const { return weight_quantizer_.get(); }
  /// The input quantizer (null when the input stays in full precision).
  Quantizer* input_quantizer() const { return input_quantizer_.get(); }
  /// The weight as the layer uses it: quantized when there is a weight quantizer.
  Variable effective_weight();
  /// Multiply-accumulates per sample of the last forward (0 before the first).
  double macs_per_sample() const { return macs_per_sample_; }
  /// Elements of the (quantized) input per sample of the last forward.
  double input_elements_per_sample() const { return input_elements_per_sample_; }
  /// Sees the input (after the input quantizer) and the output of every evaluation-mode forward.
  using Tap = std::function<void(const Tensor& input, const Tensor& output)>;
  /// Installs `tap` (an empty one removes it); calibration uses it (quant/ptq).
  void set_tap(Tap tap) { tap_ = std::move(tap); }

 private:
  std::shared_ptr<WeightedLayer> layer_;
  std::shared_ptr<Quantizer> weight_quantizer_;
  std::shared_ptr<Quantizer> input_quantizer_;
  double macs_per_sample_ = 0.0;
  double input_elements_per_sample_ = 0.0;
  Tap tap_;
};

/// The Conv2d/Linear that `m` is, or that it wraps when it is a QuantizedLayer; null for other modules.
WeightedLayer* weighted_layer_of(Module& m);
/// Const form of weighted_layer_of.
const WeightedLayer* weighted_layer_of(const Module& m);

}  // namespace qat
