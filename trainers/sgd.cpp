#include "trainers/sgd.h"

namespace qat {

Sgd::Sgd(std::vector<ParamGroup> groups, const SgdOptions& options)
    : Optimizer(std::move(groups), options.lr), momentum_(options.momentum), nesterov_(options.nesterov) {}

void Sgd::step() {
  std::vector<Tensor>& velocity = slot("momentum");
  const float mu = momentum_, lr = this->lr();
  const bool nesterov = nesterov_;
  for_each_gradient([&](size_t k, Tensor& param, const Tensor& grad, float wd) {
    const bool first = !velocity[k].defined();
    if (first) velocity[k] = zeros_like(param);
    // Equal descriptors: the three buffers line up element by element whatever the layout.
    const size_t n = param.desc().get_size() / sizeof(float);
    float* p = static_cast<float*>(param.raw());
    const float* g = static_cast<const float*>(grad.raw());
    float* v = static_cast<float*>(velocity[k].raw());
#pragma omp parallel for simd if (n > 65536)
    for (size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * p[i];
      v[i] = first ? gi : mu * v[i] + gi;
      p[i] -= lr * (nesterov ? gi + mu * v[i] : v[i]);
    }
  });
}

}  // namespace qat
