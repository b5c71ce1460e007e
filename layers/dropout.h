#pragma once
// Dropout: inverted dropout as a layer, with its own seeded generator so runs repeat exactly.
#include <cstdint>

#include "engine/random.h"
#include "layers/module.h"

namespace qat {

/// Construction options.
struct DropoutOptions {
  float p = 0.5f;     ///< probability of zeroing an element
  uint64_t seed = 0;  ///< seed of the layer's mask generator
};

/// Zeroes elements with probability p and scales the rest by 1/(1 − p) in training; identity in evaluation.
class Dropout : public Module {
 public:
  explicit Dropout(const DropoutOptions& options);
  Variable forward(const Variable& x) override;
  /// The options it was built with.
  const DropoutOptions& options() const { return options_; }
  /// The mask generator (its state belongs in a checkpoint for an exact resume).
  Generator& generator() { return generator_; }

 private:
  DropoutOptions options_;
  Generator generator_;
};

}  // namespace qat
