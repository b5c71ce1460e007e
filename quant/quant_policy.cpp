#include "quant/quant_policy.h"

#include <regex>

#include "engine/error.h"
#include "layers/conv2d.h"
#include "layers/identity.h"
#include "layers/linear.h"
#include "layers/module_walker.h"
#include "layers/multi_head_attention.h"
#include "quant/quant_method.h"

namespace qat {
namespace {

// A child slot of the module tree.
struct Slot {
  Module* parent;
  std::string name;
  std::string path;
  std::shared_ptr<Module> child;
};

bool is_attention_tap(const Module& parent, const std::string& name, const Module& child) {
  return dynamic_cast<const MultiHeadAttention*>(&parent) && dynamic_cast<const Identity*>(&child) &&
         (name == "q_in" || name == "k_in" || name == "v_in" || name == "probs_in");
}

// The weighted layers and attention taps of the tree, in model order.
void collect(Module& model, std::vector<Slot>& weighted, std::vector<Slot>& taps) {
  walk_modules(model, [&](const ModuleSlot& slot) {
    QAT_CHECK(!dynamic_cast<QuantizedLayer*>(slot.module.get()), "quant::apply: layer '", slot.path,
              "' is already quantized");
    const Slot found{&slot.parent, slot.name, slot.path, slot.module};
    if (dynamic_cast<WeightedLayer*>(slot.module.get()))
      weighted.push_back(found);
    else if (is_attention_tap(slot.parent, slot.name, *slot.module))
      taps.push_back(found);
    else
      return Walk::descend;
    return Walk::skip;
  });
}

std::string layer_type(const Module& layer) {
  if (const auto* conv = dynamic_cast<const Conv2d*>(&layer))
    return conv->options().groups > 1 ? "depthwise" : "conv2d";
  return "linear";
}

// Bits of one layer after the first/last setting and the rules; nullopt when a rule skips it.
struct LayerBits {
  int weight;
  int act;
  bool fixed;  // first/last layers keep their bits even when bits are learned
};

std::optional<LayerBits> bits_for(const Slot& slot, bool first_or_last, const QuantPolicy& policy,
                                  std::vector<bool>& matched) {
  LayerBits bits{policy.weight_bits, policy.act_bits, false};
  if (first_or_last && policy.first_last_bits > 0)  // weight-only stays weight-only
    bits = {policy.first_last_bits, policy.act_bits > 0 ? policy.first_last_bits : 0, true};
  const std::string type = layer_type(*slot.child);
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const QuantRule& rule = policy.rules[i];
    std::regex pattern;
    try {
      pattern = std::regex(rule.name_pattern);
    } catch (const std::regex_error& e) {
      detail::fail("quant.rules[", i, "].name_pattern: invalid regex '", rule.name_pattern, "': ", e.what());
    }
    QAT_CHECK(rule.layer_type.empty() || rule.layer_type == "conv2d" || rule.layer_type == "depthwise" ||
                  rule.layer_type == "linear",
              "quant.rules[", i, "].layer_type: unknown type '", rule.layer_type,
              "' (known: conv2d, depthwise, linear)");
    const bool matches = (rule.name_pattern.empty() || std::regex_match(slot.path, pattern)) &&
                         (rule.layer_type.empty() || rule.layer_type == type);
    if (!matches) continue;
    matched[i] = true;
    if (rule.skip) return std::nullopt;
    if (rule.weight_bits) bits.weight = *rule.weight_bits;
    if (rule.act_bits) bits.act = *rule.act_bits;
  }
  return bits;
}

// A rule that must select a layer (a rules file's) and selected none names the layer it asked for.
void check_required(const std::vector<QuantRule>& rules, const std::vector<bool>& matched) {
  for (size_t i = 0; i < rules.size(); ++i)
    QAT_CHECK(rules[i].origin.empty() || matched[i], rules[i].origin,
              " selects no conv/linear layer of the model (name_pattern '", rules[i].name_pattern, "')");
}

std::shared_ptr<Quantizer> quantizer_for(const QuantPolicy& policy, QuantizerOptions options, int bits,
                                         bool fixed) {
  options.bits = bits;
  if (fixed) options.learn_bits = false;
  return make_quantizer(policy.method, options);
}

}  // namespace

std::vector<Quantizer*> QuantizedModel::quantizers() const {
  std::vector<Quantizer*> out;
  for (const auto& site : layers) {
    if (site.layer->weight_quantizer()) out.push_back(site.layer->weight_quantizer());
    if (site.layer->input_quantizer()) out.push_back(site.layer->input_quantizer());
  }
  for (const auto& q : attention) out.push_back(q.get());
  return out;
}

namespace quant {

QuantizedModel apply(Module& model, const QuantPolicy& policy) {
  std::vector<Slot> weighted, taps;
  collect(model, weighted, taps);
  QuantizedModel result;
  std::vector<bool> matched(policy.rules.size(), false);
  for (size_t i = 0; i < weighted.size(); ++i) {
    const Slot& slot = weighted[i];
    const std::optional<LayerBits> bits = bits_for(slot, i == 0 || i + 1 == weighted.size(), policy, matched);
    if (!bits) continue;
    auto layer = std::dynamic_pointer_cast<WeightedLayer>(slot.child);
    QuantizerOptions weight_options = policy.weight;
    weight_options.target = QuantTarget::weight;
    weight_options.channels = layer->weight().dim(0);
    if (quant_method(policy.method).post_training) {
      ptq::PtqOptions ptq = policy.ptq;
      ptq.method = policy.method;
      weight_options.record = ptq::record_layout(ptq::layer_geometry(slot.path, *layer), ptq);
    }
    QuantizerOptions act_options = policy.activation;
    act_options.target = QuantTarget::activation;
    act_options.per_channel = false;
    // A first convolution reads the image itself, which stays in full precision (METHODS.md); a first
    // linear layer (BERT's) reads computed features and is quantized like the rest. 0 input bits: a
    // weight-only layer (post-training).
    const bool float_input = (i == 0 && layer_type(*layer) != "linear") || bits->act == 0;
    auto wrapped = std::make_shared<QuantizedLayer>(
        layer, quantizer_for(policy, weight_options, bits->weight, bits->fixed),
        float_input ? nullptr : quantizer_for(policy, act_options, bits->act, bits->fixed));
    slot.parent->replace_child(slot.name, wrapped);
    result.layers.push_back({slot.path, wrapped, bits->fixed});
  }
  check_required(policy.rules, matched);
  if (policy.quantize_attention)
    for (const Slot& slot : taps) {
      QuantizerOptions options = policy.activation;
      options.target = QuantTarget::activation;
      options.per_channel = false;
      auto q = quantizer_for(policy, options, policy.act_bits, false);
      slot.parent->replace_child(slot.name, q);
      result.attention.push_back(q);
    }
  return result;
}

QuantizedModel find(Module& model) {
  QuantizedModel result;
  walk_modules(model, [&](const ModuleSlot& slot) {
    if (auto layer = std::dynamic_pointer_cast<QuantizedLayer>(slot.module))
      result.layers.push_back({slot.path, layer, false});
    else if (auto q = std::dynamic_pointer_cast<Quantizer>(slot.module))
      result.attention.push_back(q);
    else
      return Walk::descend;
    return Walk::skip;
  });
  return result;
}

}  // namespace quant
}  // namespace qat
