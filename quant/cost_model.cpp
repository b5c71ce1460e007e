#include "quant/cost_model.h"

#include <cmath>

#include "autograd/ops/arithmetic.h"
#include "engine/error.h"

namespace qat {
namespace {

// SmoothL1(s, target) with β = 1, as torch.nn.SmoothL1Loss on one element.
Variable smooth_l1(const Variable& s, double target) {
  const double d = s.data().item() - target;
  const double value = std::abs(d) < 1.0 ? 0.5 * d * d : std::abs(d) - 0.5;
  const double slope = std::abs(d) < 1.0 ? d : (d > 0 ? 1.0 : -1.0);
  return Variable::record("smooth_l1", Tensor::full({1}, static_cast<float>(value)), {s},
                          [slope](const Tensor& g) -> std::vector<Tensor> {
                            return {Tensor::full({1}, static_cast<float>(slope * g.item()))};
                          });
}

Variable bits_of(const Quantizer* q) {
  return q ? q->bits_variable() : Variable(Tensor::full({1}, kFloatBits));
}

Variable accumulate(const Variable& total, const Variable& term) {
  return total.defined() ? total + term : term;
}

}  // namespace

std::vector<LayerCost> layer_costs(const QuantizedModel& model) {
  std::vector<LayerCost> out;
  for (const auto& site : model.layers) {
    const QuantizedLayer& layer = *site.layer;
    LayerCost cost{.path = site.path,
                   .weight_bits = layer.weight_quantizer() ? layer.weight_quantizer()->bits() : kFloatBits,
                   .act_bits = layer.input_quantizer() ? layer.input_quantizer()->bits() : kFloatBits,
                   .weight_elements = layer.layer().weight().numel(),
                   .macs = layer.macs_per_sample(),
                   .input_elements = layer.input_elements_per_sample()};
    out.push_back(cost);
  }
  return out;
}

ModelCost total_cost(const std::vector<LayerCost>& layers) {
  ModelCost total;
  double weights = 0, act_weighted = 0, act_elements = 0;
  for (const LayerCost& layer : layers) {
    if (layer.macs == 0) continue;
    total.weight_size_bits += static_cast<double>(layer.weight_elements) * layer.weight_bits;
    weights += static_cast<double>(layer.weight_elements);
    if (layer.act_bits != kFloatBits) {
      act_weighted += layer.input_elements * layer.act_bits;
      act_elements += layer.input_elements;
    }
    total.gbops += layer.bops() / 1e9;
  }
  total.avg_weight_bits = weights > 0 ? total.weight_size_bits / weights : 0;
  total.avg_act_bits = act_elements > 0 ? act_weighted / act_elements : 0;
  return total;
}

Variable cost_loss(const QuantizedModel& model, const CostTarget& target) {
  if (target.avg_bits <= 0 && target.gbops <= 0) return {};
  Variable weight_sum, act_sum, bops;
  double weight_elements = 0, act_elements = 0;
  for (const auto& site : model.layers) {
    const QuantizedLayer& layer = *site.layer;
    if (layer.macs_per_sample() == 0) continue;
    const auto numel = static_cast<float>(layer.layer().weight().numel());
    const Variable wb = bits_of(layer.weight_quantizer()), ab = bits_of(layer.input_quantizer());
    if (layer.weight_quantizer()) {
      weight_sum = accumulate(weight_sum, affine(wb, numel, 0.0f));
      weight_elements += numel;
    }
    if (layer.input_quantizer()) {
      const auto elements = static_cast<float>(layer.input_elements_per_sample());
      act_sum = accumulate(act_sum, affine(ab, elements, 0.0f));
      act_elements += elements;
    }
    bops = accumulate(bops, affine(wb * ab, static_cast<float>(layer.macs_per_sample() / 1e9), 0.0f));
  }
  Variable loss;
  // METHODS.md: the reference scales the average-bit terms by 2^-23.
  const float bit_scale = target.weight / 8388608.0f;
  if (target.avg_bits > 0 && weight_sum.defined())
    loss =
        accumulate(loss, affine(smooth_l1(weight_sum, target.avg_bits * weight_elements), bit_scale, 0.0f));
  if (target.avg_bits > 0 && act_sum.defined())
    loss = accumulate(loss, affine(smooth_l1(act_sum, target.avg_bits * act_elements), bit_scale, 0.0f));
  if (target.gbops > 0 && bops.defined())
    loss = accumulate(loss, affine(smooth_l1(bops, target.gbops), target.weight, 0.0f));
  return loss;
}

}  // namespace qat
