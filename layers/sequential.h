#pragma once
// Sequential: children applied in order.
#include <memory>
#include <string>

#include "layers/module.h"

namespace qat {

/// Runs its children one after another; children are named "0", "1", ... unless named explicitly.
class Sequential : public Module {
 public:
  Sequential() = default;
  /// Appends a child named by its position.
  Sequential& add(std::shared_ptr<Module> module);
  /// Appends a named child.
  Sequential& add(const std::string& name, std::shared_ptr<Module> module);
  Variable forward(const Variable& x) override;
};

}  // namespace qat
