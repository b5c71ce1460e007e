#include "quant/quant_tensor.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace qat {
namespace {

template <typename Reduce>
std::vector<float> per_channel(const Tensor& plain, int64_t channels, float init, Reduce reduce) {
  const int64_t inner = plain.numel() / channels;
  const float* p = plain.data<float>();
  std::vector<float> out(channels, init);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < inner; ++i) out[c] = reduce(out[c], p[c * inner + i]);
  return out;
}

}  // namespace

Tensor dense_for_kernel(const Tensor& x, bool per_channel) {
  const bool padded = x.desc().get_size() != static_cast<size_t>(x.numel()) * sizeof(float);
  return per_channel || padded ? x.contiguous() : x;
}

Tensor empty_like(const Tensor& like) { return Tensor::empty_like_desc(like.desc(), like.shape()); }

float* raw_floats(const Tensor& t) { return static_cast<float*>(t.raw()); }

Tensor vector_tensor(const std::vector<double>& values) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<float>()[i] = static_cast<float>(values[i]);
  return t;
}

std::vector<float> channel_max(const Tensor& plain, int64_t channels) {
  return per_channel(plain, channels, -INFINITY, [](float a, float v) { return std::max(a, v); });
}

std::vector<float> channel_min(const Tensor& plain, int64_t channels) {
  return per_channel(plain, channels, INFINITY, [](float a, float v) { return std::min(a, v); });
}

std::vector<float> channel_max_abs(const Tensor& plain, int64_t channels) {
  return per_channel(plain, channels, 0.0f, [](float a, float v) { return std::max(a, std::abs(v)); });
}

std::vector<float> channel_mean_abs(const Tensor& plain, int64_t channels) {
  std::vector<float> sums =
      per_channel(plain, channels, 0.0f, [](float a, float v) { return a + std::abs(v); });
  for (float& s : sums) s /= static_cast<float>(plain.numel() / channels);
  return sums;
}

std::vector<float> mse_truncation(const Tensor& plain, int64_t channels, float levels, bool is_signed) {
  constexpr int kCandidates = 100;
  constexpr int64_t kMaxSamples = 65536;
  const int64_t inner = plain.numel() / channels, stride = std::max<int64_t>(1, inner / kMaxSamples);
  const float lo = is_signed ? -1.0f : 0.0f;
  const std::vector<float> top = channel_max_abs(plain, channels);
  std::vector<float> best(channels);
  for (int64_t c = 0; c < channels; ++c) {
    const float* x = plain.data<float>() + c * inner;
    double best_error = INFINITY;
    best[c] = std::max(top[c], 1e-8f);
    for (int k = 1; k <= kCandidates; ++k) {
      const float alpha = std::max(top[c], 1e-8f) * static_cast<float>(k) / kCandidates;
      double error = 0;
      for (int64_t i = 0; i < inner; i += stride) {
        const float q = std::nearbyint(std::clamp(x[i] / alpha, lo, 1.0f) * levels) * alpha / levels;
        error += static_cast<double>(q - x[i]) * (q - x[i]);
      }
      if (error < best_error) {
        best_error = error;
        best[c] = alpha;
      }
    }
  }
  return best;
}

}  // namespace qat
