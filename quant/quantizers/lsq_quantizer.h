#pragma once
// LSQ (Esser et al. 2020) and, with a learned offset, LSQ+ (Bhalgat et al. 2020): a learned step s
// (per tensor or per output channel) on the full two's-complement or unsigned grid.
#include "quant/quantizer.h"

namespace qat {

/// q = ⌊clip((x − β)/s, qmin, qmax)⌉·s + β with straight-through rounding; s's (and β's) gradient is
/// scaled by 1/sqrt(numel·qmax). Parameters "step" and, for LSQ+, "offset".
class LsqQuantizer : public Quantizer {
 public:
  /// `learn_offset` makes it LSQ+ (activations then use the unsigned grid shifted by β).
  LsqQuantizer(const QuantizerOptions& options, bool learn_offset);
  QuantGrid grid() const override;
  const char* method() const override { return learn_offset_ ? "lsq_plus" : "lsq"; }

 protected:
  void initialize(const Tensor& x) override;
  Variable quantize(const Variable& x) override;

 private:
  IntegerRange range() const;
  bool learn_offset_;
  Variable step_;
  Variable offset_;
};

}  // namespace qat
