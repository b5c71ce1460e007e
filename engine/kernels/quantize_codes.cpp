#include "engine/kernels/quantize_codes.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/kernels/fake_quant.h"

namespace qat::kernels {
namespace {

constexpr int64_t kRun = 16384;  // elements per task

// One run; restrict-qualified and through int32 so that the loop vectorizes (rounding, clamp, narrowing).
template <typename Code>
void quantize_run(const float* __restrict x, Code* __restrict out, int64_t n, float inv_scale, float offset,
                  float lo, float hi) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<Code>(static_cast<int32_t>(grid_code(x[i], offset, inv_scale, lo, hi)));
}

template <typename Code>
void quantize_all(const float* x, Code* out, int64_t n, const CodeGrid& grid) {
  const float inv_scale = 1.0f / grid.scale;
  const auto lo = static_cast<float>(grid.qmin), hi = static_cast<float>(grid.qmax);
  const int64_t runs = (n + kRun - 1) / kRun;
#pragma omp parallel for if (runs > 1)
  for (int64_t r = 0; r < runs; ++r)
    quantize_run(x + r * kRun, out + r * kRun, std::min(n, (r + 1) * kRun) - r * kRun, inv_scale, grid.offset,
                 lo, hi);
}

}  // namespace

Tensor quantize_codes(const Tensor& x, const CodeGrid& grid, DType type) {
  const dnnl::memory::desc& in = x.desc();
  const auto& blocking = in.data.format_desc.blocking;
  QAT_CHECK(x.dtype() == DType::f32 && in.data.format_kind == dnnl_blocked && blocking.inner_nblks == 0 &&
                in.get_size() == static_cast<size_t>(x.numel()) * sizeof(float),
            "quantize_codes: input ", x.str(), " must be dense f32 without blocking");
  QAT_CHECK((type == DType::u8 && grid.qmin >= 0 && grid.qmax <= 255) ||
                (type == DType::s8 && grid.qmin >= -128 && grid.qmax <= 127),
            "quantize_codes: codes ", grid.qmin, "…", grid.qmax, " do not fit ", to_string(type));
  const dnnl::memory::desc out_desc(in.dims(), to_dnnl(type),
                                    dnnl::memory::dims(blocking.strides, blocking.strides + in.data.ndims));
  Tensor out = Tensor::empty_like_desc(out_desc, x.shape());
  const auto* src = static_cast<const float*>(x.raw());
  if (type == DType::u8)
    quantize_all(src, static_cast<uint8_t*>(out.raw()), x.numel(), grid);
  else
    quantize_all(src, static_cast<int8_t*>(out.raw()), x.numel(), grid);
  return out;
}

}  // namespace qat::kernels
