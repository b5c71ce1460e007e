#pragma once
// Dropout: inverted dropout as a layer. Masks come from the process-wide generator, whose state the
// trainer checkpoints, so a resumed run draws the same masks as an uninterrupted one.
#include "layers/module.h"

namespace qat {

/// Construction options.
struct DropoutOptions {
  float p = 0.5f;  ///< probability of zeroing an element
};

/// Zeroes elements with probability p and scales the rest by 1/(1 − p) in training; identity in evaluation.
class Dropout : public Module {
 public:
  explicit Dropout(const DropoutOptions& options);
  Variable forward(const Variable& x) override;
  /// The options it was built with.
  const DropoutOptions& options() const { return options_; }

 private:
  DropoutOptions options_;
};

}  // namespace qat
