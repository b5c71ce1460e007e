#include "quant/quantizers/pact_quantizer.h"

#include <cmath>

#include "engine/error.h"
#include "engine/kernels/fake_quant.h"
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
  const Tensor in = dense_for_kernel(x.data(), false);
  const float alpha = alpha_.data().item();
  QAT_CHECK(alpha > 0.0f, "pact: clipping level α = ", alpha, " is not positive (input ", x.str(), ")");
  const float n = levels(), lo = is_signed() ? -n : 0.0f;
  const Tensor step = Tensor::full({1}, alpha / n);
  Tensor out = empty_like(in);
  kernels::fake_quant_forward(raw_floats(in), raw_floats(out), 1, in.numel(),
                              {.scale = step.data<float>(), .offset = nullptr, .qmin = lo, .qmax = n});
  const float below_sign = is_signed() ? -1.0f : 0.0f;
  return Variable::record("pact", std::move(out), {x, alpha_},
                          [in, step, lo, n, below_sign](const Tensor& g) -> std::vector<Tensor> {
                            const Tensor grad = g.to_layout(in.desc());
                            Tensor dx = empty_like(in);
                            const kernels::GridGradSums sums = kernels::fake_quant_backward(
                                raw_floats(in), raw_floats(grad), raw_floats(dx), 1, in.numel(),
                                {.scale = step.data<float>(), .offset = nullptr, .qmin = lo, .qmax = n});
                            return {dx, vector_tensor({sums.above[0] + below_sign * sums.below[0]})};
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
