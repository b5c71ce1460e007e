#include "trainers/adamw.h"

#include <cmath>

namespace qat {

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : Optimizer(std::move(groups), options.lr), options_(options) {}

void AdamW::step() {
  std::vector<Tensor>& first = slot("m");
  std::vector<Tensor>& second = slot("v");
  // The step count lives in the state too, so that a resumed run bias-corrects identically.
  std::vector<Tensor>& count = slot("step");
  const float lr = this->lr(), b1 = options_.beta1, b2 = options_.beta2, eps = options_.eps;
  for_each_gradient([&](size_t k, Tensor& param, const Tensor& grad, float wd) {
    if (!first[k].defined()) {
      first[k] = zeros_like(param);
      second[k] = zeros_like(param);
      count[k] = Tensor::zeros({1});
    }
    const float t = ++count[k].data<float>()[0];
    const float correction1 = 1.0f - std::pow(b1, t), correction2 = 1.0f - std::pow(b2, t);
    const size_t n = param.desc().get_size() / sizeof(float);
    float* p = static_cast<float*>(param.raw());
    const float* g = static_cast<const float*>(grad.raw());
    float* m = static_cast<float*>(first[k].raw());
    float* v = static_cast<float*>(second[k].raw());
    const float decay = 1.0f - lr * wd;
#pragma omp parallel for simd if (n > 65536)
    for (size_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      p[i] = p[i] * decay - lr * (m[i] / correction1) / (std::sqrt(v[i] / correction2) + eps);
    }
  });
}

}  // namespace qat
