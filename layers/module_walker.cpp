#include "layers/module_walker.h"

namespace qat {

void walk_modules(Module& root, const std::function<Walk(const ModuleSlot&)>& visit,
                  const std::string& prefix) {
  for (const auto& [name, child] : root.children()) {
    const std::string path = child_path(prefix, name);
    if (visit({root, name, path, child}) == Walk::descend) walk_modules(*child, visit, path);
  }
}

}  // namespace qat
