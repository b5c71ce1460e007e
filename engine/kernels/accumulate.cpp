#include "engine/kernels/accumulate.h"

#include "engine/error.h"

namespace qat::kernels {

void accumulate(Tensor& acc, const Tensor& x) {
  QAT_CHECK(acc.shape() == x.shape() && acc.dtype() == DType::f32 && x.dtype() == DType::f32,
            "accumulate: cannot add ", x.str(), " into ", acc.str());
  const Tensor same_layout = x.to_layout(acc.desc());
  // Equal descriptors mean equal byte layouts, so the buffers (padding included, which is zero) add
  // element by element whatever the blocking.
  const size_t count = acc.desc().get_size() / sizeof(float);
  float* a = static_cast<float*>(acc.raw());
  const float* b = static_cast<const float*>(same_layout.raw());
#pragma omp parallel for simd if (count > 65536)
  for (size_t i = 0; i < count; ++i) a[i] += b[i];
}

}  // namespace qat::kernels
