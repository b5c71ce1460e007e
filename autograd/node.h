#pragma once
// Node: one tape entry — the op that made a Variable and the closure that computes its input gradients.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace qat {

struct VariableImpl;
struct Node;

/// Gradients for each input of an op given the gradient of its output (undefined = no gradient).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

/// Where an input's gradient goes: the node that produced it, or the leaf that accumulates it.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<VariableImpl> leaf;
  bool active() const { return node || leaf; }
};

/// One recorded op.
struct Node {
  std::string op;                   ///< op name, for messages
  std::vector<Shape> input_shapes;  ///< input shapes, for messages
  std::vector<Edge> edges;          ///< one per op input
  BackwardFn backward;              ///< released after it runs (unless the graph is retained)
  uint64_t sequence = 0;            ///< creation order; backward runs in reverse

  /// "conv2d([8, 3, 28, 28], [16, 3, 3, 3])".
  std::string signature() const;
};

}  // namespace qat
