#pragma once
// GradientProbe: what the sensitivity proxies measure on a float model in evaluation mode — each scored
// layer's weight, output, loss gradient, label-free "virtual" gradient and Hessian-vector products by
// finite differences of gradients (the tape has no double backward; MIXED_PRECISION.md, "Sensitivity
// proxies").
#include <Eigen/Dense>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "quant/quantized_layer.h"

namespace qat {

/// Per scored layer, one flattened vector (a block of the model's weights).
using WeightBlocks = std::vector<Eigen::VectorXd>;

/// Wraps the layers at `paths` of a float model in QuantizedLayers without quantizers (to tap their
/// outputs) and measures them on one labelled batch.
class GradientProbe {
 public:
  /// `inputs` and s32 class `targets` of one batch; errors name a path the model lacks.
  GradientProbe(Module& model, const std::vector<std::string>& paths, Tensor inputs, Tensor targets);

  const std::vector<std::string>& paths() const { return paths_; }
  size_t layers() const { return layers_.size(); }
  /// Examples in the batch.
  int64_t batch_size() const { return inputs_.dim(0); }
  /// Layer i's weight tensor (its shape: output channels first).
  const Tensor& weight(size_t i) const;
  /// Layer i's weight, flattened.
  Eigen::VectorXd weight_vector(size_t i) const;
  /// Mean cross-entropy gradient of every layer's weight on `rows` [begin, end) of the batch (all: 0, 0).
  WeightBlocks gradients(int64_t begin = 0, int64_t end = 0);
  /// Hessian-vector product (g(w + εv) − g(w − εv))/2ε on the whole batch, ε = 1e-3·‖w‖/‖v‖ over the
  /// blocks where v is non-zero (an empty block is zero); the weights are restored by copy.
  WeightBlocks hessian_vector(const WeightBlocks& v);
  /// Each layer's output on the first `rows` images, flattened to rows × features.
  std::vector<Eigen::MatrixXd> outputs(int64_t rows);
  /// EMQ's label-free gradient: an all-ones input of the batch's shape, backward of Σ logits.
  WeightBlocks virtual_gradients();
  /// Gradient passes so far (each one forward and one backward).
  int64_t passes() const { return passes_; }

 private:
  WeightBlocks backward_of(const Variable& loss);
  void set_weights(const WeightBlocks& w);

  Module& model_;
  std::vector<std::string> paths_;
  std::vector<std::shared_ptr<QuantizedLayer>> layers_;
  Tensor inputs_, targets_;
  int64_t passes_ = 0;
};

}  // namespace qat
