#include "autograd/ops/select.h"

#include <cmath>

#include "engine/error.h"

namespace qat {
namespace {

// Per element: mask ? a : b, over plain f32 tensors (a or b may be undefined, meaning zero).
Tensor choose(const std::vector<uint8_t>& mask, const Tensor& a, const Tensor& b, const Shape& shape) {
  Tensor out = Tensor::empty(shape);
  const float* pa = a.defined() ? a.data<float>() : nullptr;
  const float* pb = b.defined() ? b.data<float>() : nullptr;
  float* po = out.data<float>();
  const int64_t n = out.numel();
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) po[i] = mask[i] ? (pa ? pa[i] : 0.0f) : (pb ? pb[i] : 0.0f);
  return out;
}

std::vector<uint8_t> as_mask(const Tensor& condition) {
  const std::vector<float> values = condition.to_vector();
  std::vector<uint8_t> mask(values.size());
  for (size_t i = 0; i < values.size(); ++i) mask[i] = values[i] != 0.0f;
  return mask;
}

}  // namespace

Variable where(const Tensor& condition, const Variable& a, const Variable& b) {
  QAT_CHECK(condition.shape() == a.shape() && a.shape() == b.shape(), "where: condition ", condition.str(),
            ", a ", a.str(), " and b ", b.str(), " must have one shape");
  QAT_CHECK(a.data().dtype() == DType::f32 && b.data().dtype() == DType::f32,
            "where: expected f32 values, got ", a.str(), " and ", b.str());
  const std::vector<uint8_t> mask = as_mask(condition);
  const Shape shape = a.shape();
  return Variable::record("where", choose(mask, a.data().contiguous(), b.data().contiguous(), shape), {a, b},
                          [mask, shape](const Tensor& g) -> std::vector<Tensor> {
                            const Tensor grad = g.contiguous();
                            return {choose(mask, grad, Tensor(), shape), choose(mask, Tensor(), grad, shape)};
                          });
}

Variable round_ste(const Variable& x) {
  QAT_CHECK(x.data().dtype() == DType::f32, "round_ste: expected f32 input, got ", x.str());
  const Tensor src = x.data().contiguous();
  Tensor out = Tensor::empty(src.shape());
  const float* in = src.data<float>();
  float* o = out.data<float>();
  const int64_t n = src.numel();
  // std::nearbyint under the default rounding mode rounds half to even, like torch.round.
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) o[i] = std::nearbyint(in[i]);
  return Variable::record("round_ste", out, {x}, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

}  // namespace qat
