#pragma once
// Variable: a Tensor on the tape, with its gradient and the Node that produced it.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "engine/tensor.h"

namespace qat {

/// Shared state of a Variable.
struct VariableImpl {
  Tensor data;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  bool requires_grad = false;
  std::function<void()> on_grad_ready;  ///< called once per backward after the leaf's last accumulation
};

/// A tensor that records the ops applied to it; `backward()` fills the gradients of leaves.
class Variable {
 public:
  /// An undefined variable.
  Variable() = default;
  /// A leaf wrapping `data`.
  explicit Variable(Tensor data, bool requires_grad = false);

  /// True unless default-constructed.
  bool defined() const { return impl_ != nullptr; }
  /// The value.
  const Tensor& data() const { return impl_->data; }
  /// Replaces the value (same shape); for optimizers and loading.
  void set_data(Tensor data);
  /// The accumulated gradient (undefined before backward reaches this leaf).
  const Tensor& grad() const { return impl_->grad; }
  /// Drops the accumulated gradient.
  void zero_grad() { impl_->grad = Tensor(); }
  /// Whether gradients flow to this variable.
  bool requires_grad() const { return impl_->requires_grad; }
  /// Calls `hook` during every backward that reaches this leaf, once its gradient is complete (the
  /// tape will add nothing more to it); an empty hook removes it.
  void set_grad_ready_hook(std::function<void()> hook);
  /// Marks a leaf as trainable (or not).
  void set_requires_grad(bool trainable);
  /// True when no op produced it.
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  /// The node that produced it (null for leaves).
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  /// Same value, cut from the tape.
  Variable detach() const { return Variable(impl_->data); }

  /// Backpropagates from a one-element variable (seed 1).
  void backward(bool retain_graph = false) const;
  /// Backpropagates with an explicit seed gradient of this variable's shape.
  void backward(const Tensor& seed, bool retain_graph = false) const;

  /// Shape of the value.
  const Shape& shape() const { return impl_->data.shape(); }
  /// One dimension (negative counts from the end).
  int64_t dim(int axis) const { return impl_->data.dim(axis); }
  /// Number of dimensions.
  int ndim() const { return impl_->data.ndim(); }
  /// Number of elements.
  int64_t numel() const { return impl_->data.numel(); }
  /// Shape and dtype, for messages.
  std::string str() const { return impl_->data.str(); }
  /// Shared state (for the tape).
  const std::shared_ptr<VariableImpl>& impl() const { return impl_; }

  /// Records an op result: a node with `backward` when recording is on and an input needs a gradient.
  static Variable record(const char* op, Tensor output, const std::vector<Variable>& inputs,
                         BackwardFn backward);

 private:
  std::shared_ptr<VariableImpl> impl_;
};

}  // namespace qat
