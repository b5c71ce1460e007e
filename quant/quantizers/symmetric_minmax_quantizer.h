#pragma once
// Symmetric min-max fake quantization (PyTorch's MinMaxObserver with qscheme per_tensor_symmetric /
// per_channel_symmetric): the observed ranges of MinMaxQuantizer, zero point 0 and, for signed inputs,
// Δ = max(−min, max)/((2^b − 1)/2) on codes −2^(b−1)…2^(b−1)−1; for unsigned inputs (ReLU outputs)
// Δ = max/(2^b − 1) on codes 0…2^b−1, where PyTorch's quint8 would put the zero point at 128 and waste
// half the codes.
#include "quant/quantizers/minmax_quantizer.h"

namespace qat {

/// Min-max ranges on a grid symmetric about zero.
class SymmetricMinMaxQuantizer : public MinMaxQuantizer {
 public:
  using MinMaxQuantizer::MinMaxQuantizer;
  QuantGrid grid() const override;
  const char* method() const override { return "minmax_sym"; }
};

}  // namespace qat
