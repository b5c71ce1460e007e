#pragma once
// CostTable: what any bit configuration of one quantized model costs (MIXED_PRECISION.md, "Cost model"):
// the bytes the packed file stores (the packed writer's stored_bytes), and average bits and BOPs through
// cost_model.h's totals — the numbers `qat inspect` prints for the model built at those bits.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/cost_model.h"
#include "quant/export/quantized_weight.h"
#include "quant/mixed_precision/bit_config.h"

namespace qat {

/// One quantized layer as allocation sees it.
struct LayerCostEntry {
  LayerCost cost;          ///< numel, MACs and input elements, and the bits it was built with
  QuantizedWeight record;  ///< its packed record without codes: the fields save_packed stores
  bool fixed = false;      ///< the policy fixes its bits (first and last layers)
};

/// Costs of the layers of one model, model order.
class CostTable {
 public:
  /// From a model quant::apply wrapped (every conv/linear layer) that has run one forward pass, which
  /// recorded MACs and initialized the quantizers; packs it once to learn each record's fields.
  /// Switches the model to evaluation mode.
  static CostTable of(Module& model, const QuantizedModel& quantized);

  const std::vector<LayerCostEntry>& layers() const { return layers_; }
  /// Bytes save_packed writes for layer i's datasets at `w_bits`.
  int64_t size_bytes(size_t i, int w_bits) const;
  /// Σ of size_bytes over `bits`, which names every layer in model order (errors name a mismatch).
  int64_t size_bytes(const BitConfig& bits) const;
  /// cost_model.h's totals (average bits, weight bits, GBOPs) at `bits`.
  ModelCost totals(const BitConfig& bits) const;
  /// The widths the model was built with.
  BitConfig built() const;

 private:
  void check(const BitConfig& bits) const;
  std::vector<LayerCostEntry> layers_;
};

}  // namespace qat
