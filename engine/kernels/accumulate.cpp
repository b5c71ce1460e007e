#include "engine/kernels/accumulate.h"

#include "engine/error.h"

namespace qat::kernels {

Tensor accumulate(const Tensor& acc, const Tensor& x) {
  QAT_CHECK(acc.shape() == x.shape() && acc.dtype() == DType::f32 && x.dtype() == DType::f32,
            "accumulate: cannot add ", x.str(), " into ", acc.str());
  const Tensor same_layout = x.to_layout(acc.desc());
  Tensor sum = Tensor::empty_like_desc(acc.desc(), acc.shape());
  // Equal descriptors mean equal byte layouts, so the buffers (padding included, which is zero) add
  // element by element whatever the blocking.
  const size_t count = acc.desc().get_size() / sizeof(float);
  const float* a = static_cast<const float*>(acc.raw());
  const float* b = static_cast<const float*>(same_layout.raw());
  float* out = static_cast<float*>(sum.raw());
#pragma omp parallel for simd if (count > 65536)
  for (size_t i = 0; i < count; ++i) out[i] = a[i] + b[i];
  return sum;
}

}  // namespace qat::kernels
