#pragma once
// Module: named parameters, buffers and children; train/eval; state dict. Layers derive from it.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"

namespace qat {

/// Base of every layer and model.
class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// Computes the output for one input.
  virtual Variable forward(const Variable& x) = 0;
  /// Same as forward.
  Variable operator()(const Variable& x) { return forward(x); }

  /// Parameters of this module and its descendants, named by path ("layer1.0.conv1.weight").
  std::vector<std::pair<std::string, Variable>> named_parameters() const;
  /// Parameters in named_parameters() order.
  std::vector<Variable> parameters() const;
  /// Buffers (running statistics and the like) of the tree, named by path.
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  /// Every parameter value and buffer by name, in plain layout.
  std::map<std::string, Tensor> state_dict();
  /// Copies values into parameters and buffers; every name and shape must match, except that with
  /// `allow_missing` entries absent from `state` keep their values (a quantized model from a float one).
  void load_state_dict(const std::map<std::string, Tensor>& state, bool allow_missing = false);

  /// Switches this module and its descendants to training (true) or evaluation (false) mode.
  void train(bool training = true);
  /// Same as train(false).
  void eval() { train(false); }
  /// True in training mode.
  bool is_training() const { return training_; }

  /// Direct children with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  /// Replaces the direct child `name` (used by decorators that wrap a layer).
  void replace_child(const std::string& name, std::shared_ptr<Module> module);
  /// Runs the direct child `name` — composite modules call children through this, never through a
  /// saved pointer, so that a decorator put in the child's place takes effect.
  Variable call_child(const std::string& name, const Variable& x) const;

 protected:
  /// Registers a trainable parameter initialized to `value`; returns its handle.
  Variable register_parameter(const std::string& name, Tensor value);
  /// Registers a buffer stored in a member of the derived class.
  void register_buffer(const std::string& name, Tensor& member);
  /// Registers a child module and returns it.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }
  /// Called after train()/eval() changed the mode of this module.
  virtual void on_mode_change() {}

 private:
  std::vector<std::pair<std::string, Variable>> parameters_;
  std::vector<std::pair<std::string, Tensor*>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

/// The path of child `name` under `prefix` ("layer1_0" + "conv1" = "layer1_0.conv1"); an empty part (a
/// decorator's wrapped layer has the empty name) adds nothing.
std::string child_path(const std::string& prefix, const std::string& name);
/// The demangled C++ type of a module ("qat::LayerNorm"), for error messages.
std::string module_type_name(const Module& module);
/// The direct child `name` of `parent`, the module at `path`; `what` prefixes the error when it has none.
Module& child_of(const Module& parent, const std::string& name, const std::string& path, const char* what);

}  // namespace qat
