#pragma once
// QuantPolicy and quant::apply: which layers get which quantizers, read from the experiment config's
// defaults, first/last-layer bits and per-type / per-name rules, applied by wrapping layers in place.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quant/ptq/layer_quantizer.h"
#include "quant/quantized_layer.h"

namespace qat {

/// One override; selects layers by path regex and type, later rules win.
struct QuantRule {
  std::string name_pattern;  ///< ECMAScript regex over the whole layer path; "" = any
  std::string layer_type;    ///< "conv2d", "depthwise", "linear" or "" (any)
  std::optional<int> weight_bits;
  std::optional<int> act_bits;
  bool skip = false;   ///< leave the selected layers in full precision
  std::string origin;  ///< non-empty (e.g. "rules file F, rule 3"): the rule must select a layer
};

/// Everything quant::apply needs.
struct QuantPolicy {
  std::string method = "none";
  int weight_bits = 4;
  int act_bits = 4;                 ///< 0: inputs stay in full precision (weight-only post-training)
  int first_last_bits = 8;          ///< bits of the first and last layers (0 = like the others)
  bool quantize_attention = false;  ///< also quantize the inputs of the attention matmuls
  std::vector<QuantRule> rules;
  QuantizerOptions weight;  ///< per_channel, learned-bits and NIPQ settings for weights (bits set per layer)
  QuantizerOptions activation;  ///< the same for activations
  ptq::PtqOptions ptq;          ///< a post-training method's settings, which shape each layer's record
};

/// A quantized layer with its path in the model.
struct QuantizedSite {
  std::string path;                       ///< "layer1.0.conv1"
  std::shared_ptr<QuantizedLayer> layer;  ///< the decorator now in the model
  bool fixed = false;                     ///< apply() gave it first/last bits (unknown to find())
};

/// What apply() put into the model.
struct QuantizedModel {
  std::vector<QuantizedSite> layers;                  ///< wrapped conv/linear layers in model order
  std::vector<std::shared_ptr<Quantizer>> attention;  ///< quantizers on attention matmul inputs
  /// Every quantizer (weights, inputs, attention).
  std::vector<Quantizer*> quantizers() const;
};

namespace quant {

/// Wraps every Conv2d and Linear of `model` by `policy` (a first convolution's input, the image, stays
/// in full precision, as every input with 0 act bits); a post-training method's weight quantizers get the
/// record layout of their layer. Returns what it wrapped. Errors name the rule or the layer.
QuantizedModel apply(Module& model, const QuantPolicy& policy);

/// The quantized layers already in a model (e.g. one apply() built before a checkpoint was loaded).
QuantizedModel find(Module& model);

}  // namespace quant
}  // namespace qat
