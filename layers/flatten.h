#pragma once
// Flatten: [N, ...] → [N, prod(...)].
#include "layers/module.h"

namespace qat {

/// Collapses every dimension after the first.
class Flatten : public Module {
 public:
  Variable forward(const Variable& x) override;
};

}  // namespace qat
