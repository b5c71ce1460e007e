#include "quant/mixed_precision/cost_table.h"

#include "engine/error.h"
#include "quant/export/packed_file.h"
#include "quant/export/packed_model.h"

namespace qat {

CostTable CostTable::of(Module& model, const QuantizedModel& quantized) {
  const PackedModel packed = pack_model(model, "");
  const std::vector<LayerCost> costs = layer_costs(quantized);
  CostTable table;
  for (size_t i = 0; i < costs.size(); ++i) {
    QAT_CHECK(costs[i].macs > 0, "cost table: layer '", costs[i].path, "' did not run (no MACs recorded)");
    QuantizedWeight record = packed.layer(costs[i].path).weight;
    record.codes.clear();
    table.layers_.push_back(
        {.cost = costs[i], .record = std::move(record), .fixed = quantized.layers[i].fixed});
  }
  return table;
}

int64_t CostTable::size_bytes(size_t i, int w_bits) const {
  QuantizedWeight w = layers_.at(i).record;
  w.bits = w_bits;
  return stored_bytes(w);
}

void CostTable::check(const BitConfig& bits) const {
  QAT_CHECK(bits.layers.size() == layers_.size(), "bit config: ", bits.layers.size(),
            " layers for a model of ", layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i)
    QAT_CHECK(bits.layers[i].path == layers_[i].cost.path, "bit config: layer ", i, " is '",
              bits.layers[i].path, "', the model's is '", layers_[i].cost.path, "'");
}

int64_t CostTable::size_bytes(const BitConfig& bits) const {
  check(bits);
  int64_t bytes = 0;
  for (size_t i = 0; i < layers_.size(); ++i) bytes += size_bytes(i, bits.layers[i].w_bits);
  return bytes;
}

ModelCost CostTable::totals(const BitConfig& bits) const {
  check(bits);
  std::vector<LayerCost> costs;
  for (size_t i = 0; i < layers_.size(); ++i) {
    LayerCost c = layers_[i].cost;
    c.weight_bits = bits.layers[i].w_bits;
    c.act_bits = bits.layers[i].a_bits > 0 ? bits.layers[i].a_bits : kFloatBits;
    costs.push_back(c);
  }
  return total_cost(costs);
}

BitConfig CostTable::built() const {
  BitConfig bits;
  for (const LayerCostEntry& l : layers_)
    bits.layers.push_back({.path = l.cost.path,
                           .w_bits = l.cost.weight_bits,
                           .a_bits = l.cost.act_bits == kFloatBits ? 0 : l.cost.act_bits,
                           .group_size = l.record.group_size});
  return bits;
}

}  // namespace qat
