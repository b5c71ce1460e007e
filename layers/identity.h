#pragma once
// Identity: returns its input — a named tap point a decorator can replace (e.g. by an activation quantizer).
#include "layers/module.h"

namespace qat {

/// forward(x) = x.
class Identity : public Module {
 public:
  Variable forward(const Variable& x) override;
};

}  // namespace qat
