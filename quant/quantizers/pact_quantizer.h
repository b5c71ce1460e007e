#pragma once
// PACT (Choi et al. 2018) for activations: y = clip(x, 0, α) (or [−α, α] for signed inputs) quantized
// with straight-through rounding; α's gradient is the clip's alone (1 where x ≥ α). Weights use DoReFa.
#include "quant/quantizer.h"

namespace qat {

/// Parameter "alpha" ([1]), initialized to 6 after ReLU and 3 for signed inputs as NIPQ's activations.
class PactQuantizer : public Quantizer {
 public:
  explicit PactQuantizer(const QuantizerOptions& options);
  QuantGrid grid() const override;
  const char* method() const override { return "pact"; }

 protected:
  void initialize(const Tensor& x) override;
  Variable quantize(const Variable& x) override;

 private:
  float levels() const;
  Variable alpha_;
};

}  // namespace qat
