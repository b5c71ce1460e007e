#include "quant/quantizers/symmetric_minmax_quantizer.h"

#include <algorithm>
#include <cmath>

namespace qat {

QuantGrid SymmetricMinMaxQuantizer::grid() const {
  const IntegerRange r = integer_range(bits(), is_signed());
  QuantGrid g{.scale = {},
              .offset = {},
              .qmin = static_cast<int64_t>(r.qmin),
              .qmax = static_cast<int64_t>(r.qmax),
              .bits = bits()};
  const float* pmin = range_min().data<float>();
  const float* pmax = range_max().data<float>();
  // Half the code span for signed grids (PyTorch: (quant_max − quant_min)/2), all of it for unsigned.
  const float span = is_signed() ? (r.qmax - r.qmin) / 2.0f : r.qmax;
  for (int64_t c = 0; c < range_min().numel(); ++c) {
    const float magnitude = is_signed() ? std::max(-pmin[c], pmax[c]) : pmax[c];
    g.scale.push_back(std::max(magnitude, 1e-8f) / span);
    g.offset.push_back(0.0f);
  }
  return g;
}

}  // namespace qat
