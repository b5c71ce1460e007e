#pragma once
// Optimizer: parameter groups, learning rate and per-parameter state shared by SGD and AdamW.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace qat {

/// Parameters that share a weight decay (biases, norms and quantizer scalars get none).
struct ParamGroup {
  std::vector<Variable> params;
  float weight_decay = 0.0f;
};

/// Base of the optimizers.
class Optimizer {
 public:
  Optimizer(std::vector<ParamGroup> groups, float lr);
  virtual ~Optimizer() = default;
  /// Applies one update to every parameter that has a gradient.
  virtual void step() = 0;
  /// Drops every parameter's gradient.
  void zero_grad();
  /// Scales all gradients by max_norm/‖g‖ when their global L2 norm ‖g‖ exceeds max_norm (as PyTorch's
  /// clip_grad_norm_); returns ‖g‖ before clipping.
  double clip_grad_norm(double max_norm);
  /// Sets the learning rate (schedules call this every step).
  void set_lr(float lr) { lr_ = lr; }
  /// Every parameter, group by group.
  std::vector<Variable> parameters() const;
  /// Current learning rate.
  float lr() const { return lr_; }
  /// Every state tensor, named "<slot>.<parameter index>", for checkpoints.
  std::map<std::string, Tensor> state() const;
  /// Restores what state() returned.
  void load_state(const std::map<std::string, Tensor>& state);

 protected:
  /// Per-parameter state buffers named by slot ("momentum", "m", "v"), parameter order.
  std::vector<Tensor>& slot(const std::string& name);
  /// Calls f(index, data, gradient in data's layout, weight decay) for every parameter with a gradient.
  void for_each_gradient(const std::function<void(size_t, Tensor&, const Tensor&, float)>& f);
  /// A zero-filled buffer laid out like `like`.
  static Tensor zeros_like(const Tensor& like);

 private:
  std::vector<ParamGroup> groups_;
  float lr_;
  size_t count_ = 0;
  std::map<std::string, std::vector<Tensor>> slots_;
};

}  // namespace qat
