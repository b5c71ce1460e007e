#pragma once
// walk_modules: the one depth-first walk of a module tree; every pass that looks for layers by type
// (quantization policy, finding quantized layers) goes through it.
#include <functional>
#include <memory>
#include <string>

#include "layers/module.h"

namespace qat {

/// Where a module sits in the tree: its parent, its name there and its full path.
struct ModuleSlot {
  Module& parent;                         ///< the module that holds it
  const std::string& name;                ///< its name in the parent ("" for a decorator's wrapped layer)
  const std::string& path;                ///< child_path of every name from the root ("layer1.0.conv1")
  const std::shared_ptr<Module>& module;  ///< the module itself
};

/// What the walk does after visiting a module.
enum class Walk { descend, skip };

/// Visits every module below `root` (not root itself) depth first in child order; a visit that returns
/// Walk::skip leaves that module's children out. `prefix` is the path of root.
void walk_modules(Module& root, const std::function<Walk(const ModuleSlot&)>& visit,
                  const std::string& prefix = "");

}  // namespace qat
