#include "quant/mixed_precision/allocation_problem.h"

#include <cmath>

#include "engine/error.h"
#include "quant/ptq/rtn.h"

namespace qat {
namespace {

// Layer i's cost at w_bits in the budget's integer unit (weight bits, bytes or BOPs).
int64_t unit_cost(const CostTable& table, size_t i, int w_bits, BudgetKind kind) {
  const LayerCost& c = table.layers()[i].cost;
  switch (kind) {
    case BudgetKind::avg_bits:
      return c.weight_elements * w_bits;
    case BudgetKind::size_bytes:
      return table.size_bytes(i, w_bits);
    case BudgetKind::gbops: {
      LayerCost at = c;
      at.weight_bits = w_bits;
      return std::llround(at.bops());
    }
  }
  return 0;
}

// The budget in cost units over every layer (fixed ones included except for average bits).
double units_of(const Budget& b, int64_t allocated_weights) {
  switch (b.kind) {
    case BudgetKind::avg_bits:
      return b.amount * static_cast<double>(allocated_weights);
    case BudgetKind::size_bytes:
      return b.amount;
    case BudgetKind::gbops:
      return b.amount * 1e9;
  }
  return 0;
}

double to_unit(double units, BudgetKind kind, int64_t allocated_weights) {
  switch (kind) {
    case BudgetKind::avg_bits:
      return units / static_cast<double>(allocated_weights);
    case BudgetKind::size_bytes:
      return units;
    case BudgetKind::gbops:
      return units / 1e9;
  }
  return 0;
}

}  // namespace

AllocationProblem make_problem(const CostTable& table, const std::vector<int>& bits, const LayerValue& value,
                               const Budget& budget) {
  AllocationProblem p;
  int64_t fixed = 0, weights = 0;
  for (size_t i = 0; i < table.layers().size(); ++i) {
    const LayerCostEntry& layer = table.layers()[i];
    if (layer.fixed) {
      if (budget.kind != BudgetKind::avg_bits)
        fixed += unit_cost(table, i, layer.cost.weight_bits, budget.kind);
      continue;
    }
    std::vector<Choice> choices;
    choices.reserve(bits.size());
    for (const int b : bits)
      choices.push_back(
          {.bits = b, .value = value(p.layer.size(), b), .cost = unit_cost(table, i, b, budget.kind)});
    p.sets.push_back(std::move(choices));
    p.layer.push_back(i);
    weights += layer.cost.weight_elements;
  }
  QAT_CHECK(!p.sets.empty(), "budget ", budget.text, ": every quantized layer has fixed bits (first/last)");
  const int64_t lo = cheapest_cost(p.sets) + fixed, hi = dearest_cost(p.sets) + fixed;
  const double units = units_of(budget, weights);
  QAT_CHECK(units >= static_cast<double>(lo) && units <= static_cast<double>(hi), "budget ", budget.text,
            " outside [", to_unit(static_cast<double>(lo), budget.kind, weights), ", ",
            to_unit(static_cast<double>(hi), budget.kind, weights),
            "] (the cheapest and the dearest configuration of the allocated layers)");
  p.budget = static_cast<int64_t>(std::floor(units)) - fixed;
  return p;
}

BitConfig allocated_bits(const CostTable& table, const AllocationProblem& problem,
                         const Allocation& allocation) {
  BitConfig config = table.built();
  for (size_t s = 0; s < problem.sets.size(); ++s)
    config.layers[problem.layer[s]].w_bits = problem.sets[s][allocation.pick[s]].bits;
  return config;
}

double budget_measure(const CostTable& table, const BitConfig& bits, BudgetKind kind) {
  if (kind == BudgetKind::size_bytes) return static_cast<double>(table.size_bytes(bits));
  if (kind == BudgetKind::gbops) return table.totals(bits).gbops;
  double weighted = 0, weights = 0;
  for (size_t i = 0; i < table.layers().size(); ++i) {
    if (table.layers()[i].fixed) continue;
    const auto n = static_cast<double>(table.layers()[i].cost.weight_elements);
    weighted += n * bits.layers[i].w_bits;
    weights += n;
  }
  return weights > 0 ? weighted / weights : 0;
}

double rtn_distortion(const Eigen::MatrixXd& w, int bits) {
  return (ptq::rtn_quantize(w, ptq::GridKind::asym, bits, 0).dequantize() - w).squaredNorm();
}

}  // namespace qat
