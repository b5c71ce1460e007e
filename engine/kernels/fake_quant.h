#pragma once
// Fused fake-quantization kernels: one vectorized pass per tensor forward and one backward, over
// `channels` consecutive blocks of `inner` floats (channels = 1 for per-tensor quantization).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace qat::kernels {

/// A uniform integer grid per channel: v = (x − offset)/scale, code = ⌊clamp(v, qmin, qmax)⌉, y = code·scale
/// + offset.
struct UniformGrid {
  const float* scale = nullptr;   ///< one step per channel
  const float* offset = nullptr;  ///< one offset per channel, or null for 0
  float qmin = 0.0f;              ///< lowest integer code
  float qmax = 0.0f;              ///< highest integer code
};

/// The integer code (as a float) of x on a grid: ⌊clamp((x − offset)·inv_scale, qmin, qmax)⌉, rounding half
/// to even. The one rounding that fake quantization and the integer kernels' input codes share.
inline float grid_code(float x, float offset, float inv_scale, float qmin, float qmax) {
  return std::nearbyint(std::clamp((x - offset) * inv_scale, qmin, qmax));
}

/// Per-channel sums of the upstream gradient that every grid quantizer's scalar gradients are built from.
struct GridGradSums {
  std::vector<double> inside;  ///< Σ g·(⌊v⌉ − v) over qmin ≤ v ≤ qmax (LSQ's step gradient)
  std::vector<double> below;   ///< Σ g over v < qmin
  std::vector<double> above;   ///< Σ g over v > qmax
};

/// y = fake-quantized x on `grid`.
void fake_quant_forward(const float* x, float* y, int64_t channels, int64_t inner, const UniformGrid& grid);

/// dx = g inside the grid's range (straight-through rounding), 0 outside; returns the per-channel sums.
GridGradSums fake_quant_backward(const float* x, const float* g, float* dx, int64_t channels, int64_t inner,
                                 const UniformGrid& grid);

/// NIPQ's pseudo-quantization: clip to [lo·α, α], add ε·α/n inside (lo = −1 signed, 0 unsigned).
struct NoiseProxy {
  const float* alpha = nullptr;        ///< truncation per channel
  float levels = 1.0f;                 ///< n: positive levels of the grid
  bool is_signed = true;               ///< grid −n…n (true) or 0…n
  bool histogram = true;               ///< ε from the rounding-error histogram (true) or U(−0.5, 0.5)
  uint64_t key = 0;                    ///< random key of this draw
  const float* given_noise = nullptr;  ///< ε per element instead of sampling (tests), or null
};

/// Per-channel sums for NIPQ's scalar gradients.
struct NoiseGradSums {
  std::vector<double> over;   ///< Σ g over x ≥ α
  std::vector<double> under;  ///< Σ g over x ≤ lo·α
  std::vector<double> noise;  ///< Σ g·ε inside
};

/// y = pseudo-quantized x.
void noise_proxy_forward(const float* x, float* y, int64_t channels, int64_t inner, const NoiseProxy& proxy);

/// dx = g inside; returns the per-channel sums, reading each element's ε back from the forward's output y
/// as (y − x)·n/α (cheaper than drawing it again). x, y and proxy as in the forward.
NoiseGradSums noise_proxy_backward(const float* x, const float* y, const float* g, float* dx,
                                   int64_t channels, int64_t inner, const NoiseProxy& proxy);

/// Bin counts (`bins` on [−0.5, 0.5]) of the rounding error ⌊v⌉ − v, v = x·n/α, over untruncated elements.
std::vector<int64_t> rounding_error_histogram(const float* x, int64_t channels, int64_t inner,
                                              const NoiseProxy& proxy, int bins);

}  // namespace qat::kernels
