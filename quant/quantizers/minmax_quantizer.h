#pragma once
// Uniform min-max fake quantization: Δ = (max − min)/(2^b − 1) with an integer zero point, from the
// weight's current range or, for activations, a running average of batch ranges; STE rounding.
#include "quant/quantizer.h"

namespace qat {

/// Buffers "range_min" and "range_max" (per channel for per-channel weights).
class MinMaxQuantizer : public Quantizer {
 public:
  explicit MinMaxQuantizer(const QuantizerOptions& options);
  QuantGrid grid() const override;
  const char* method() const override { return "minmax"; }

 protected:
  void initialize(const Tensor& x) override;
  Variable quantize(const Variable& x) override;
  /// Observed minimum per channel (≤ 0, so that 0 is on every grid built from it).
  const Tensor& range_min() const { return range_min_; }
  /// Observed maximum per channel (≥ 0).
  const Tensor& range_max() const { return range_max_; }

 private:
  void observe(const Tensor& plain, float momentum);
  Tensor range_min_;
  Tensor range_max_;
};

}  // namespace qat
