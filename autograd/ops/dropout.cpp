#include "autograd/ops/dropout.h"

#include "engine/error.h"

namespace qat {
namespace {

// SplitMix64 of a counter: a stateless per-element hash, so the mask fills in parallel and vectorizes
// while depending only on the key and the element index.
inline uint64_t mix(uint64_t key, uint64_t index) {
  uint64_t z = key + (index + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// 1 where the element survives: the top 32 hash bits, read as a fraction of 2^32, are at least p.
Tensor draw_mask(const Shape& shape, float p, uint64_t key) {
  Tensor mask = Tensor::empty(shape, DType::u8);
  uint8_t* m = mask.data<uint8_t>();
  const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(p) * 4294967296.0);
  const int64_t n = mask.numel();
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) m[i] = (mix(key, i) >> 32) >= threshold;
  return mask;
}

// x · mask · scale elementwise (x made plain first).
Tensor masked_scale(const Tensor& x, const Tensor& mask, float scale) {
  const Tensor in = x.contiguous();
  Tensor out = Tensor::empty(in.shape());
  const float* px = in.data<float>();
  const uint8_t* m = mask.data<uint8_t>();
  float* o = out.data<float>();
  const int64_t n = in.numel();
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) o[i] = px[i] * (static_cast<float>(m[i]) * scale);
  return out;
}

}  // namespace

Variable dropout(const Variable& x, float p, bool training, Generator& gen) {
  QAT_CHECK(p >= 0.0f && p <= 1.0f, "dropout: p ", p, " outside [0, 1] for input ", x.str());
  if (!training || p == 0.0f) return x;
  QAT_CHECK(x.data().dtype() == DType::f32, "dropout: expected f32 input, got ", x.str());
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  Tensor mask = draw_mask(x.shape(), p, gen.next());
  return Variable::record(
      "dropout", masked_scale(x.data(), mask, scale), {x},
      [mask, scale](const Tensor& g) -> std::vector<Tensor> { return {masked_scale(g, mask, scale)}; });
}

}  // namespace qat
