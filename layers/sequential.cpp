#include "layers/sequential.h"

namespace qat {

Sequential& Sequential::add(std::shared_ptr<Module> module) {
  return add(std::to_string(children().size()), std::move(module));
}

Sequential& Sequential::add(const std::string& name, std::shared_ptr<Module> module) {
  register_module(name, std::move(module));
  return *this;
}

Variable Sequential::forward(const Variable& x) {
  Variable y = x;
  for (const auto& [name, child] : children()) y = child->forward(y);
  return y;
}

}  // namespace qat
