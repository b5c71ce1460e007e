#pragma once
// Dropout: zeroes activations at random while training.
#include "layers/module.h"

namespace qat {

/// Construction options.
struct DropoutOptions {
  float p = 0.5f;  ///< probability of zeroing an element
};

/// Inverted dropout in training (masks from the process-wide generator, whose state checkpoints keep,
/// so a resumed run draws the same masks); the identity in evaluation.
class Dropout : public Module {
 public:
  explicit Dropout(const DropoutOptions& options);
  Variable forward(const Variable& x) override;

 private:
  DropoutOptions options_;
};

}  // namespace qat
