#include "layers/module.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <typeinfo>

#include "engine/error.h"

namespace qat {
std::vector<std::pair<std::string, Variable>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Variable>> out = parameters_;
  for (const auto& [child_name, child] : children_)
    for (auto& [name, param] : child->named_parameters())
      out.emplace_back(child_path(child_name, name), param);
  return out;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> out;
  for (auto& [name, param] : named_parameters()) out.push_back(param);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Tensor*>> out = buffers_;
  for (const auto& [child_name, child] : children_)
    for (auto& [name, buffer] : child->named_buffers())
      out.emplace_back(child_path(child_name, name), buffer);
  return out;
}

std::map<std::string, Tensor> Module::state_dict() {
  std::map<std::string, Tensor> state;
  for (auto& [name, param] : named_parameters()) state[name] = param.data().contiguous();
  for (auto& [name, buffer] : named_buffers()) state[name] = buffer->contiguous();
  return state;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool allow_missing) {
  std::set<std::string> unused;
  for (const auto& [name, tensor] : state) unused.insert(name);
  auto lookup = [&](const std::string& name, const Shape& shape) -> const Tensor* {
    auto it = state.find(name);
    QAT_CHECK(it != state.end() || allow_missing, "load_state_dict: missing entry '", name, "'");
    if (it == state.end()) return nullptr;
    QAT_CHECK(it->second.shape() == shape, "load_state_dict: '", name, "' has shape ", it->second.str(),
              ", the model expects ", to_string(shape));
    unused.erase(name);
    return &it->second;
  };
  for (auto& [name, param] : named_parameters())
    if (const Tensor* value = lookup(name, param.shape())) param.set_data(value->clone());
  for (auto& [name, buffer] : named_buffers())
    if (const Tensor* value = lookup(name, buffer->shape())) *buffer = value->clone();
  QAT_CHECK(unused.empty(), "load_state_dict: ", unused.size(),
            " entries do not belong to this model, e.g. '", unused.empty() ? "" : *unused.begin(), "'");
}

void Module::train(bool training) {
  training_ = training;
  on_mode_change();
  for (auto& [name, child] : children_) child->train(training);
}

void Module::replace_child(const std::string& name, std::shared_ptr<Module> module) {
  for (auto& [child_name, child] : children_)
    if (child_name == name) {
      child = std::move(module);
      return;
    }
  detail::fail("replace_child: no child named '", name, "'");
}

Variable Module::call_child(const std::string& name, const Variable& x) const {
  for (const auto& [child_name, child] : children_)
    if (child_name == name) return child->forward(x);
  detail::fail("call_child: no child named '", name, "'");
}

Variable Module::register_parameter(const std::string& name, Tensor value) {
  Variable param(std::move(value), true);
  parameters_.emplace_back(name, param);
  return param;
}

void Module::register_buffer(const std::string& name, Tensor& member) {
  buffers_.emplace_back(name, &member);
}

std::string child_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : name.empty() ? prefix : prefix + "." + name;
}

std::string module_type_name(const Module& module) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(typeid(module).name(), nullptr, nullptr, &status), std::free);
  return status == 0 ? name.get() : typeid(module).name();
}

Module& child_of(const Module& parent, const std::string& name, const std::string& path, const char* what) {
  for (const auto& [n, c] : parent.children())
    if (n == name) return *c;
  detail::fail(what, ": '", path, "' has no child '", name, "'");
}

}  // namespace qat
