#include "quant/quantized_layer.h"

#include "engine/error.h"

namespace qat {

QuantizedLayer::QuantizedLayer(std::shared_ptr<WeightedLayer> layer,
                               std::shared_ptr<Quantizer> weight_quantizer,
                               std::shared_ptr<Quantizer> input_quantizer)
    : layer_(std::move(layer)),
      weight_quantizer_(std::move(weight_quantizer)),
      input_quantizer_(std::move(input_quantizer)) {
  QAT_CHECK(layer_ != nullptr, "QuantizedLayer: no layer to wrap");
  register_module("", layer_);
  if (weight_quantizer_) register_module("wq", weight_quantizer_);
  if (input_quantizer_) register_module("aq", input_quantizer_);
}

Variable QuantizedLayer::effective_weight() {
  return weight_quantizer_ ? weight_quantizer_->forward(layer_->weight()) : layer_->weight();
}

Variable QuantizedLayer::forward(const Variable& x) {
  const Variable input = input_quantizer_ ? input_quantizer_->forward(x) : x;
  Variable y = layer_->forward_with(input, effective_weight(), layer_->bias());
  // Per sample: every output element is one dot product of fan-in = numel(W) / out-channels terms.
  const double batch = x.ndim() > 0 ? static_cast<double>(x.dim(0)) : 1.0;
  const double out_channels = static_cast<double>(layer_->weight().dim(0));
  macs_per_sample_ =
      static_cast<double>(y.numel()) / batch / out_channels * static_cast<double>(layer_->weight().numel());
  input_elements_per_sample_ = static_cast<double>(x.numel()) / batch;
  if (tap_ && !is_training()) tap_(input.data(), y.data());
  return y;
}

WeightedLayer* weighted_layer_of(Module& m) {
  if (auto* q = dynamic_cast<QuantizedLayer*>(&m)) return &q->layer();
  return dynamic_cast<WeightedLayer*>(&m);
}

const WeightedLayer* weighted_layer_of(const Module& m) { return weighted_layer_of(const_cast<Module&>(m)); }

}  // namespace qat
