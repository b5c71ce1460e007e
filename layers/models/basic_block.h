#pragma once
// BasicBlock: the two-conv residual block of ResNet-18/20 with a 1x1-conv projection shortcut.
#include <cstdint>

#include "layers/module.h"

namespace qat {

/// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut is a 1x1 conv + BN when the
/// stride or the width changes, identity otherwise.
class BasicBlock : public Module {
 public:
  BasicBlock(int64_t in, int64_t out, int64_t stride);
  Variable forward(const Variable& x) override;
};

}  // namespace qat
