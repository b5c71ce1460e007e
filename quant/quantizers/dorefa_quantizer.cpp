#include "quant/quantizers/dorefa_quantizer.h"

#include <cmath>

#include "engine/error.h"
#include "quant/grid_fake_quant.h"
#include "quant/quant_tensor.h"

namespace qat {
namespace {

float levels_of(int bits) { return std::exp2(static_cast<float>(bits)) - 1.0f; }

Variable dorefa_activation(const Variable& x, int bits) {
  const float n = levels_of(bits);
  return grid_fake_quant("dorefa_activation", x,
                         {.step = Tensor::full({1}, 1.0f / n), .offset = {}, .qmin = 0.0f, .qmax = n}, {},
                         {});
}

}  // namespace

Variable dorefa_weight(const Variable& w, int bits) {
  QAT_CHECK(w.data().dtype() == DType::f32, "dorefa: expected an f32 weight, got ", w.str());
  const Tensor plain = w.data().contiguous();
  const int64_t count = plain.numel();
  const float* p = plain.data<float>();
  Tensor t = Tensor::empty(plain.shape()), out = Tensor::empty(plain.shape());
  float* pt = t.data<float>();
  int64_t arg = 0;
  for (int64_t i = 0; i < count; ++i) {
    pt[i] = std::tanh(p[i]);
    if (std::abs(pt[i]) > std::abs(pt[arg])) arg = i;
  }
  const float m = std::max(std::abs(pt[arg]), 1e-12f), n = levels_of(bits);
  float* po = out.data<float>();
  for (int64_t i = 0; i < count; ++i)
    po[i] = 2.0f * std::nearbyint((pt[i] / (2.0f * m) + 0.5f) * n) / n - 1.0f;
  return Variable::record(
      "dorefa_weight", std::move(out), {w}, [t, arg, m](const Tensor& g) -> std::vector<Tensor> {
        const Tensor grad = g.contiguous();
        const float* pg = grad.data<float>();
        const float* pt = t.data<float>();
        Tensor dw = Tensor::empty(t.shape());
        float* pd = dw.data<float>();
        // y = 2·w' − 1 (rounding straight through), w' = t/(2M) + 1/2, M = |t[arg]|.
        double through_max = 0;
        for (int64_t i = 0; i < t.numel(); ++i) {
          pd[i] = pg[i] * (1.0f - pt[i] * pt[i]) / m;
          through_max -= static_cast<double>(pg[i]) * pt[i] / (m * m);
        }
        const float ta = pt[arg];
        pd[arg] += static_cast<float>(through_max * (ta < 0 ? -1.0 : 1.0) * (1.0 - ta * ta));
        return {dw};
      });
}

DorefaQuantizer::DorefaQuantizer(const QuantizerOptions& options) : Quantizer(options) {
  QAT_CHECK(!options.per_channel, "dorefa quantizer: per-tensor only");
}

Variable DorefaQuantizer::quantize(const Variable& x) {
  return options().target == QuantTarget::weight ? dorefa_weight(x, bits()) : dorefa_activation(x, bits());
}

QuantGrid DorefaQuantizer::grid() const {
  const float n = levels_of(bits());
  // Weights 2·code/n − 1, activations code/n, code in 0…n.
  return options().target == QuantTarget::weight ? QuantGrid{.scale = {2.0f / n},
                                                             .offset = {-1.0f},
                                                             .qmin = 0,
                                                             .qmax = static_cast<int64_t>(n),
                                                             .bits = bits()}
                                                 : QuantGrid{.scale = {1.0f / n},
                                                             .offset = {0.0f},
                                                             .qmin = 0,
                                                             .qmax = static_cast<int64_t>(n),
                                                             .bits = bits()};
}

}  // namespace qat
