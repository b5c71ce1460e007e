#include "quant/quantizers/pact_quantizer.h"

#include <cmath>

#include "engine/error.h"
#include "quant/grid_fake_quant.h"
#include "quant/quant_tensor.h"

namespace qat {

PactQuantizer::PactQuantizer(const QuantizerOptions& options) : Quantizer(options) {
  QAT_CHECK(options.target == QuantTarget::activation,
            "pact quantizer: for activations (weights use dorefa)");
  alpha_ = register_parameter("alpha", Tensor::full({1}, 6.0f));
}

float PactQuantizer::levels() const {
  return is_signed() ? std::exp2(static_cast<float>(bits() - 1)) - 1.0f
                     : std::exp2(static_cast<float>(bits())) - 1.0f;
}

void PactQuantizer::initialize(const Tensor&) {
  alpha_.set_data(Tensor::full({1}, is_signed() ? 3.0f : 6.0f));
}

Variable PactQuantizer::quantize(const Variable& x) {
  const float alpha = alpha_.data().item();
  QAT_CHECK(alpha > 0.0f, "pact: clipping level α = ", alpha, " is not positive (input ", x.str(), ")");
  const float n = levels(), lo = is_signed() ? -n : 0.0f;
  const float below_sign = is_signed() ? -1.0f : 0.0f;
  return grid_fake_quant("pact", x,
                         {.step = Tensor::full({1}, alpha / n), .offset = {}, .qmin = lo, .qmax = n},
                         {alpha_}, [below_sign](const auto& sums) -> std::vector<Tensor> {
                           return {vector_tensor({sums.above[0] + below_sign * sums.below[0]})};
                         });
}

QuantGrid PactQuantizer::grid() const {
  const float n = levels();
  return {.scale = {alpha_.data().item() / n},
          .offset = {0.0f},
          .qmin = is_signed() ? -static_cast<int64_t>(n) : 0,
          .qmax = static_cast<int64_t>(n),
          .bits = bits()};
}

}  // namespace qat
