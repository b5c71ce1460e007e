#pragma once
// DoReFa (Zhou et al. 2016): weights w' = tanh(w)/(2·max|tanh(w)|) + 1/2 quantized on [0, 1] and mapped
// to 2q − 1; activations clip(x, 0, 1) quantized on [0, 1]. No learnable scalars.
#include "quant/quantizer.h"

namespace qat {

/// Weight or activation DoReFa quantizer.
class DorefaQuantizer : public Quantizer {
 public:
  explicit DorefaQuantizer(const QuantizerOptions& options);
  QuantGrid grid() const override;
  const char* method() const override { return "dorefa"; }

 protected:
  void initialize(const Tensor&) override {}
  Variable quantize(const Variable& x) override;
};

/// The weight transform and its quantization as one op (gradient through tanh and the max included).
Variable dorefa_weight(const Variable& w, int bits);

}  // namespace qat
