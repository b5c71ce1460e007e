#include "engine/kernels/fake_quant.h"

#include <algorithm>
#include <cmath>

namespace qat::kernels {
namespace {

constexpr int64_t kParallelThreshold = 32768;
constexpr float kTruncatedAbove = 2.0f;
constexpr float kTruncatedBelow = -2.0f;
// METHODS.md: the rounding error is histogrammed in 256 bins on [−0.5, 0.5].
constexpr int kHistogramBins = 256;
constexpr int64_t kHistogramSamples = 65536;

// A stateless 32-bit integer hash (Wellons' "lowbias32"): per-element randomness that depends only on
// the key and the element index, runs in parallel and vectorizes (32-bit lanes).
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  return x ^ (x >> 16);
}

inline float unit_float(uint32_t bits) { return static_cast<float>(bits) * (1.0f / 4294967296.0f); }

// Element runs summed in float (vectorized), runs added in double: exact enough and fast.
constexpr int64_t kRun = 4096;

struct Sums3 {
  double a = 0, b = 0, c = 0;
};

// body(begin, end, a, b, c) sums one run into floats; runs go to threads when the channel is large.
// Channels are visited one after another so that no parallel region nests in another.
template <typename Body>
Sums3 sum_runs(int64_t n, Body body) {
  double a = 0, b = 0, c = 0;
  const int64_t runs = (n + kRun - 1) / kRun;
#pragma omp parallel for reduction(+ : a, b, c) if (n > kParallelThreshold)
  for (int64_t r = 0; r < runs; ++r) {
    float fa = 0, fb = 0, fc = 0;
    body(r * kRun, std::min(n, (r + 1) * kRun), fa, fb, fc);
    a += fa;
    b += fb;
    c += fc;
  }
  return {a, b, c};
}

// The grid of one channel as the backward loop needs it.
struct ChannelGrid {
  float inv_scale, offset, qmin, qmax;
};

// Fake quantization of one run; restrict-qualified so that the loop vectorizes.
void grid_forward_run(const float* __restrict x, float* __restrict y, int64_t n, ChannelGrid grid,
                      float scale) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    y[i] = std::nearbyint(std::clamp((x[i] - grid.offset) * grid.inv_scale, grid.qmin, grid.qmax)) * scale +
           grid.offset;
}

// Straight-through backward of one run; restrict-qualified so that the loop vectorizes.
void grid_backward_run(const float* __restrict x, const float* __restrict g, float* __restrict dx, int64_t n,
                       ChannelGrid grid, float& inside, float& below, float& above) {
  float in = 0, lo = 0, hi = 0;
#pragma omp simd reduction(+ : in, lo, hi)
  for (int64_t i = 0; i < n; ++i) {
    const float v = (x[i] - grid.offset) * grid.inv_scale;
    const bool under = v<grid.qmin, over = v> grid.qmax, within = !under && !over;
    dx[i] = within ? g[i] : 0.0f;
    in += within ? g[i] * (std::nearbyint(v) - v) : 0.0f;
    lo += under ? g[i] : 0.0f;
    hi += over ? g[i] : 0.0f;
  }
  inside = in;
  below = lo;
  above = hi;
}

// Noise-proxy backward of one run: the code is ε inside and ±2 for truncated elements.
void noise_backward_run(const float* __restrict code, const float* __restrict g, float* __restrict dx,
                        int64_t n, float& over, float& under, float& noise) {
  float o = 0, u = 0, e = 0;
#pragma omp simd reduction(+ : o, u, e)
  for (int64_t i = 0; i < n; ++i) {
    const float k = code[i];
    const bool above = k == kTruncatedAbove, below = k == kTruncatedBelow, inside = !above && !below;
    dx[i] = inside ? g[i] : 0.0f;
    o += above ? g[i] : 0.0f;
    u += below ? g[i] : 0.0f;
    e += inside ? g[i] * k : 0.0f;
  }
  over = o;
  under = u;
  noise = e;
}

float lower_bound_factor(bool is_signed) { return is_signed ? -1.0f : 0.0f; }

// Walker's alias table over the histogram's bins: one hash per element picks a bin in O(1) without
// branches on the data (a per-element binary search over the CDF costs more than the convolution).
class HistogramSampler {
 public:
  explicit HistogramSampler(const std::vector<int64_t>& counts)
      : prob_(counts.size(), 1.0f), alias_(counts.size()) {
    const auto bins = static_cast<int64_t>(counts.size());
    double total = 0;
    for (int64_t c : counts) total += static_cast<double>(c);
    empty_ = total == 0;
    if (empty_) return;
    std::vector<double> scaled(bins);
    std::vector<int64_t> small, large;
    for (int64_t i = 0; i < bins; ++i) {
      scaled[i] = static_cast<double>(counts[i]) * bins / total;
      alias_[i] = static_cast<int32_t>(i);
      (scaled[i] < 1.0 ? small : large).push_back(i);
    }
    while (!small.empty() && !large.empty()) {
      const int64_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = static_cast<float>(scaled[s]);
      alias_[s] = static_cast<int32_t>(l);
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }
  bool empty() const { return empty_; }
  /// Raw tables, for a by-value functor in the vectorized loop.
  const float* prob() const { return prob_.data(); }
  const int32_t* alias() const { return alias_.data(); }

 private:
  std::vector<float> prob_;
  std::vector<int32_t> alias_;
  bool empty_ = true;
};

}  // namespace

void fake_quant_forward(const float* x, float* y, int64_t channels, int64_t inner, const UniformGrid& grid) {
  for (int64_t c = 0; c < channels; ++c) {
    const float s = grid.scale[c], off = grid.offset ? grid.offset[c] : 0.0f;
    const ChannelGrid channel{1.0f / s, off, grid.qmin, grid.qmax};
    const float* xc = x + c * inner;
    float* yc = y + c * inner;
    const int64_t runs = (inner + kRun - 1) / kRun;
#pragma omp parallel for if (inner > kParallelThreshold)
    for (int64_t r = 0; r < runs; ++r)
      grid_forward_run(xc + r * kRun, yc + r * kRun, std::min(inner, (r + 1) * kRun) - r * kRun, channel, s);
  }
}

GridGradSums fake_quant_backward(const float* x, const float* g, float* dx, int64_t channels, int64_t inner,
                                 const UniformGrid& grid) {
  GridGradSums sums{std::vector<double>(channels), std::vector<double>(channels),
                    std::vector<double>(channels)};
  for (int64_t c = 0; c < channels; ++c) {
    const float inv = 1.0f / grid.scale[c], off = grid.offset ? grid.offset[c] : 0.0f;
    const float qmin = grid.qmin, qmax = grid.qmax;
    const float* xc = x + c * inner;
    const float* gc = g + c * inner;
    float* dxc = dx + c * inner;
    const Sums3 s =
        sum_runs(inner, [=](int64_t begin, int64_t end, float& inside, float& below, float& above) {
          grid_backward_run(xc + begin, gc + begin, dxc + begin, end - begin, {inv, off, qmin, qmax}, inside,
                            below, above);
        });
    sums.inside[c] = s.a;
    sums.below[c] = s.b;
    sums.above[c] = s.c;
  }
  return sums;
}

std::vector<int64_t> rounding_error_histogram(const float* x, int64_t channels, int64_t inner,
                                              const NoiseProxy& proxy, int bins) {
  // The histogram's shape is estimated from at most kHistogramSamples elements: exact for weight tensors,
  // and 256 samples per bin on average for large activations. The sampled positions are hashed, not
  // strided: a power-of-two stride aliases with the layout (e.g. stride 16 of [N, C, 16, 16] visits only
  // column 0, of nChw16c only the first channel of each block).
  const int64_t total = channels * inner, samples = std::min(total, kHistogramSamples);
  const auto k1 = static_cast<uint32_t>(proxy.key) ^ 0x68e31da4U,
             k2 = static_cast<uint32_t>(proxy.key >> 32) ^ 0xb5297a4dU;
  const float lo = lower_bound_factor(proxy.is_signed);
  std::vector<int64_t> counts(bins, 0);
  for (int64_t s = 0; s < samples; ++s) {
    const auto i = static_cast<uint32_t>(s);
    const uint64_t h = (static_cast<uint64_t>(hash32(i ^ k1)) << 32) | hash32(hash32(i ^ k2) ^ 0x1b873593U);
    const int64_t at = samples == total ? s : static_cast<int64_t>(h % static_cast<uint64_t>(total));
    const int64_t c = at / inner;
    const float alpha = proxy.alpha[c], v = x[at];
    if (v >= alpha || v <= lo * alpha) continue;
    const float scaled = v * (proxy.levels / alpha);
    const float r = std::nearbyint(scaled) - scaled;
    ++counts[std::clamp(static_cast<int>((r + 0.5f) * static_cast<float>(bins)), 0, bins - 1)];
  }
  return counts;
}

namespace {

// ε for elements [begin, begin + n) into `eps`: from the alias table when `prob` is set, else uniform.
// Plain restrict-qualified loops over 32-bit lanes, so that they vectorize (gathers for the table).
void noise_run(float* __restrict eps, int64_t begin, int64_t n, const float* __restrict prob,
               const int32_t* __restrict alias, uint64_t key) {
  const auto k1 = static_cast<uint32_t>(key), k2 = static_cast<uint32_t>(key >> 32);
  if (!prob) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) eps[i] = unit_float(hash32(static_cast<uint32_t>(begin + i) ^ k1)) - 0.5f;
    return;
  }
  static_assert(kHistogramBins == 256, "the column takes 8 hash bits");
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    // The first draw's bits 0-7 pick a column, bits 8-31 accept it or take its alias; the second draw
    // places ε inside the bin.
    const uint32_t a = hash32(static_cast<uint32_t>(begin + i) ^ k1), b = hash32(a ^ k2);
    const auto column = static_cast<int32_t>(a & 0xffU);
    const float accept = static_cast<float>(a >> 8) * (1.0f / 16777216.0f);
    const float p = prob[column];
    const int32_t other = alias[column];
    const int32_t bin = accept < p ? column : other;
    eps[i] = -0.5f + (static_cast<float>(bin) + unit_float(b)) * (1.0f / kHistogramBins);
  }
}

// Truncation and noise of one run, given ε in `code` (overwritten with ±2 where truncated).
void select_run(const float* __restrict x, float* __restrict y, float* __restrict code, int64_t n,
                float alpha, float low, float step) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i], eps = code[i];
    const bool over = v >= alpha, under = v <= low;
    y[i] = over ? alpha : under ? low : v + eps * step;
    code[i] = over ? kTruncatedAbove : under ? kTruncatedBelow : eps;
  }
}

}  // namespace

void noise_proxy_forward(const float* x, float* y, float* code, int64_t channels, int64_t inner,
                         const NoiseProxy& proxy) {
  const int64_t total = channels * inner;
  const HistogramSampler sampler(proxy.histogram && !proxy.given_noise
                                     ? rounding_error_histogram(x, channels, inner, proxy, kHistogramBins)
                                     : std::vector<int64_t>());
  // With no untruncated element the histogram is empty: fall back to uniform noise.
  const float* prob = sampler.empty() ? nullptr : sampler.prob();
  const float lo = lower_bound_factor(proxy.is_signed);
  const int64_t runs = (total + kRun - 1) / kRun;
#pragma omp parallel for if (total > kParallelThreshold)
  for (int64_t r = 0; r < runs; ++r) {
    const int64_t begin = r * kRun, n = std::min(total, begin + kRun) - begin;
    if (proxy.given_noise)
      std::copy(proxy.given_noise + begin, proxy.given_noise + begin + n, code + begin);
    else
      noise_run(code + begin, begin, n, prob, sampler.alias(), proxy.key);
    // A run may straddle channels: split it at channel boundaries.
    for (int64_t at = begin; at < begin + n;) {
      const int64_t c = at / inner, stop = std::min(begin + n, (c + 1) * inner);
      const float alpha = proxy.alpha[c];
      select_run(x + at, y + at, code + at, stop - at, alpha, lo * alpha, alpha / proxy.levels);
      at = stop;
    }
  }
}

NoiseGradSums noise_proxy_backward(const float* code, const float* g, float* dx, int64_t channels,
                                   int64_t inner) {
  NoiseGradSums sums{std::vector<double>(channels), std::vector<double>(channels),
                     std::vector<double>(channels)};
  for (int64_t c = 0; c < channels; ++c) {
    const float* kc = code + c * inner;
    const float* gc = g + c * inner;
    float* dxc = dx + c * inner;
    const Sums3 s = sum_runs(inner, [=](int64_t begin, int64_t end, float& over, float& under, float& noise) {
      noise_backward_run(kc + begin, gc + begin, dxc + begin, end - begin, over, under, noise);
    });
    sums.over[c] = s.a;
    sums.under[c] = s.b;
    sums.noise[c] = s.c;
  }
  return sums;
}

}  // namespace qat::kernels
