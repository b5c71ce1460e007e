#pragma once
// Cost accounting of a quantized model (METHODS.md): weight size in bits, average bits, BOPs per layer
// and in total, and NIPQ's differentiable cost losses on the learned bit-widths.
#include <string>
#include <vector>

#include "quant/quant_policy.h"

namespace qat {

/// Full-precision bits of a layer side without a quantizer.
constexpr int kFloatBits = 32;

/// One layer's cost; MACs and input elements are per sample, from the layer's last forward.
struct LayerCost {
  std::string path;
  int weight_bits = kFloatBits;
  int act_bits = kFloatBits;
  int64_t weight_elements = 0;
  double macs = 0;
  double input_elements = 0;
  /// k²·C_in·(C_out/groups)·H_out·W_out·b_w·b_a, i.e. MACs × b_w × b_a.
  double bops() const { return macs * weight_bits * act_bits; }
};

/// Totals over the layers that ran.
struct ModelCost {
  double weight_size_bits = 0;  ///< Σ numel(W)·b_w
  double avg_weight_bits = 0;   ///< weighted by numel(W)
  double avg_act_bits = 0;      ///< weighted by input elements, over layers with an input quantizer
  double gbops = 0;             ///< Σ BOPs / 1e9
};

/// Per-layer costs in model order (layers that never ran have 0 MACs).
std::vector<LayerCost> layer_costs(const QuantizedModel& model);
/// Totals of `layers` (layers with 0 MACs are left out).
ModelCost total_cost(const std::vector<LayerCost>& layers);

/// NIPQ's constraint terms; a target of 0 turns its term off.
struct CostTarget {
  float avg_bits = 0;  ///< average-bit target of weights and of activations
  float gbops = 0;     ///< total GBOPs target
  float weight = 1;    ///< λ
};

/// λ·(SmoothL1(S_a, T_a) + SmoothL1(S_w, T_w))/2^23 and/or λ·SmoothL1(GBOPs, target), with bits ⌊b⌉
/// straight through to θ; requires a forward pass first (for MACs). Undefined when no target is set.
Variable cost_loss(const QuantizedModel& model, const CostTarget& target);

}  // namespace qat
