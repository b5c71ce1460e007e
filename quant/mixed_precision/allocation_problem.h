#pragma once
// From a cost table, per-layer values and a budget to the allocator's choice sets, and back to a
// BitConfig (MIXED_PRECISION.md, "Allocator").
#include <Eigen/Dense>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "quant/mixed_precision/allocator.h"
#include "quant/mixed_precision/cost_table.h"

namespace qat {

/// What a budget counts: average weight bits over the allocated layers (weighted by numel), the packed
/// file's bytes of every quantized layer, or the GBOPs of every quantized layer.
enum class BudgetKind { avg_bits, size_bytes, gbops };

/// A budget in its own unit.
struct Budget {
  BudgetKind kind = BudgetKind::avg_bits;
  double amount = 0;
  std::string text;  ///< as the user gave it ("avg_bits=3"), for errors
};

/// The allocator's input for the layers the policy does not fix.
struct AllocationProblem {
  ChoiceSets sets;
  std::vector<size_t> layer;  ///< the cost table's index of each set
  int64_t budget = 0;         ///< in cost units, the fixed layers' share taken out
};

/// A layer's value at `bits` (`set` indexes the allocated layers in model order).
using LayerValue = std::function<double(size_t set, int bits)>;

/// Choice sets over `bits` for every layer of `table` that is not fixed; errors when the budget lies
/// outside what the cheapest and the dearest configuration cost (naming both, in the budget's unit).
AllocationProblem make_problem(const CostTable& table, const std::vector<int>& bits, const LayerValue& value,
                               const Budget& budget);

/// The table's built widths with the allocated layers' weight bits replaced by `allocation`.
BitConfig allocated_bits(const CostTable& table, const AllocationProblem& problem,
                         const Allocation& allocation);

/// The budget's own measure of `bits` (average bits of the allocated layers, bytes or GBOPs).
double budget_measure(const CostTable& table, const BitConfig& bits, BudgetKind kind);

/// ‖Q_b(W) − W‖²_F with Q_b round-to-nearest on a per-output-channel min-max grid; `w` is [out, rest].
double rtn_distortion(const Eigen::MatrixXd& w, int bits);

}  // namespace qat
