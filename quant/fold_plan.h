#pragma once
// FoldStep / fold_plan: the one answer to "which batch norm and activation follow this conv or linear
// layer, and whose input grid does its output land on" — read by the ONNX exporter, the packed writer
// and the integer compiler, so that they fold the same modules the same way.
#include <optional>
#include <string>
#include <vector>

#include "layers/activation.h"
#include "layers/batch_norm2d.h"
#include "layers/module.h"

namespace qat {

/// One step of a module chain: a weighted layer (plain or decorated) with what folds into it, or any
/// other module.
struct FoldStep {
  Module* module = nullptr;                ///< the layer, or the other module
  std::string path{};                      ///< its path in the model
  BatchNorm2d* batch_norm = nullptr;       ///< the batch norm right after a weighted layer, folded into it
  std::string batch_norm_path{};           ///< its path ("" when none)
  const Activation* activation = nullptr;  ///< the ReLU/ReLU6 right after the layer (or its batch norm)
  std::string activation_path{};           ///< its path ("" when none)
  /// The next step when it is a weighted layer: this step's output lands on that layer's input grid.
  std::optional<size_t> consumer{};

  /// True for a conv/linear layer (plain or decorated).
  bool weighted() const;
};

/// The children of `chain` (at `path`) in order, each weighted layer with the batch norm and the
/// ReLU/ReLU6 that follow it among its siblings; with `flatten`, the children of nested Sequentials take
/// their place (a Sequential is a chain, a residual block is not).
std::vector<FoldStep> fold_plan(Module& chain, const std::string& path, bool flatten);

/// The plan of a single module: one step, nothing folded.
FoldStep single_step(Module& module, const std::string& path);

}  // namespace qat
