#pragma once
// EMQ's proxy search space (lilujunai/EMQ-series: exps/rank/rank_mqbench/rank_emq_zc.py): two branches,
// each a per-layer input through two unary ops, joined by a binary op and reduced to one score per layer.
// Tensors are matrices of dim 0 (output channels, or samples for the activation) × the rest.
#include <Eigen/Dense>
#include <array>
#include <string>

namespace qat {

/// A branch's per-layer input.
enum class EmqInput { act, grad, weight, virtual_grad };

/// The inputs of one layer: its output on the batch, the loss gradient of W, W, and the gradient of W
/// under an all-ones input and Σ logits.
struct EmqLayerInputs {
  Eigen::MatrixXd act, grad, weight, virtual_grad;
};

/// Unary ops by index (MIXED_PRECISION.md): 0 log, 1 abslog, 2 abs, 3 pow2, 4 exp, 5 normalize, 6 relu,
/// 7 invert, 8 Frobenius norm, 9 normalized sum, 10 l1, 11 softmax, 12 sigmoid, 13 logsoftmax, 14 sqrt,
/// 15 min-max norm, 16 mean, 17 std, 18 no-op. Binary: 0 sum, 1 difference, 2 product, 3 matmul.
constexpr int kEmqUnaryOps = 19;
constexpr int kEmqBinaryOps = 4;

/// One individual.
struct EmqGenotype {
  std::array<EmqInput, 2> inputs{EmqInput::virtual_grad, EmqInput::weight};
  std::array<std::array<int, 2>, 2> unary{{{1, 11}, {6, 14}}};
  int binary = 2;
  bool mean = true;  ///< reduce by mean (else sum)

  /// The authors' best, as the spec decodes it: mean(softmax₀(abslog G_virt) ⊙ sqrt(relu W)).
  static EmqGenotype seed() { return {}; }
  /// "inputs=[virtual_grad, weight], ops=[[1,11],[6,14],2], reduce=mean".
  std::string str() const;
};

/// Unary op `op` (log and sqrt zero non-positive entries first, abslog maps exact zeros to 1, softmax and
/// logsoftmax run over dim 0, l1 and normalized sum are means; the norms, means and std give 1×1).
Eigen::MatrixXd emq_unary(int op, const Eigen::MatrixXd& x);

/// The score of one layer; errors on operands whose shapes the binary op cannot join.
double emq_score(const EmqGenotype& g, const EmqLayerInputs& in);

}  // namespace qat
