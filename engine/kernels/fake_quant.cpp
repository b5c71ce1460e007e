#include "engine/kernels/fake_quant.h"

#include <omp.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>

namespace qat::kernels {
namespace {

constexpr int64_t kParallelThreshold = 32768;
// METHODS.md: the rounding error is histogrammed in 256 bins on [−0.5, 0.5].
constexpr int kHistogramBins = 256;
constexpr int64_t kHistogramSamples = 65536;
constexpr int64_t kHistogramChunks = 16;
// Resolution of the sampler's quantile table.
constexpr int64_t kQuantiles = 4096;

// A stateless 32-bit integer hash (Wellons' "lowbias32"): per-element randomness that depends only on
// the key and the element index, runs in parallel and vectorizes (32-bit lanes).
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  return x ^ (x >> 16);
}

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
    y[i] = grid_code(x[i], grid.offset, grid.inv_scale, grid.qmin, grid.qmax) * scale + grid.offset;
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

float lower_bound_factor(bool is_signed) { return is_signed ? -1.0f : 0.0f; }

// The histogram's quantile function tabulated at kQuantiles points: one gather from a 16 KB table picks
// an element's bin (a per-element search over the CDF would cost more than the convolution). The
// table's CDF is within 1/kQuantiles of the histogram's, far below what a sample of a tensor resolves.
// Empty when the histogram is (no untruncated element).
std::vector<int32_t> quantile_table(const std::vector<int64_t>& counts) {
  std::vector<double> cumulative(counts.size());
  double total = 0;
  for (size_t i = 0; i < counts.size(); ++i) cumulative[i] = total += static_cast<double>(counts[i]);
  if (total == 0) return {};
  std::vector<int32_t> table(kQuantiles);
  // The quantiles increase with j: one merge-like walk over the bins finds them all.
  size_t bin = 0;
  for (int64_t j = 0; j < kQuantiles; ++j) {
    const double target = (static_cast<double>(j) + 0.5) / kQuantiles * total;
    while (bin + 1 < cumulative.size() && cumulative[bin] <= target) ++bin;
    table[j] = static_cast<int32_t>(bin);
  }
  return table;
}

// Elements whose histogram bins are computed (vectorized) before they are counted.
constexpr int64_t kBinRun = 1024;

// The rounding-error bin of each element of a run of one channel, or `bins` when it is truncated.
void bin_run(const float* __restrict x, int32_t* __restrict bin, int64_t n, float alpha, float low,
             float scale, int bins) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i], scaled = v * scale, r = std::nearbyint(scaled) - scaled;
    const int b = std::clamp(static_cast<int>((r + 0.5f) * static_cast<float>(bins)), 0, bins - 1);
    bin[i] = v >= alpha || v <= low ? bins : b;
  }
}

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
  // The histogram's shape is estimated from kHistogramSamples elements in kHistogramChunks contiguous
  // chunks spread over the tensor (exact for tensors up to that size, e.g. weights; 256 samples per bin on
  // average for large activations). Contiguous chunks read at memory speed and visit every position of a
  // power-of-two or blocked layout, which a power-of-two stride would not; their offsets move with the key.
  const int64_t total = channels * inner;
  const bool exact = total <= kHistogramSamples;
  const int64_t chunks = exact ? 1 : kHistogramChunks, length = exact ? total : kHistogramSamples / chunks;
  const int64_t spacing = total / chunks, slack = spacing - length + 1;
  const float lo = lower_bound_factor(proxy.is_signed);
  const int threads = exact ? 1 : omp_get_max_threads();
  // One row of bins + 1 counts per thread; the extra slot takes the truncated elements.
  const auto row = static_cast<size_t>(bins) + 1;
  std::vector<int64_t> counts(row * threads, 0);
#pragma omp parallel for num_threads(threads)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    int64_t* local = counts.data() + static_cast<size_t>(omp_get_thread_num()) * row;
    const int64_t begin = chunk * spacing + static_cast<int64_t>(hash32(static_cast<uint32_t>(proxy.key) ^
                                                                        static_cast<uint32_t>(chunk)) %
                                                                 static_cast<uint64_t>(slack));
    int32_t bin[kBinRun];
    for (int64_t at = begin; at < begin + length;) {
      const int64_t c = channels == 1 ? 0 : at / inner;
      const int64_t stop = std::min({begin + length, (c + 1) * inner, at + kBinRun});
      const float alpha = proxy.alpha[c];
      bin_run(x + at, bin, stop - at, alpha, lo * alpha, proxy.levels / alpha, bins);
      for (int64_t i = 0; i < stop - at; ++i) ++local[bin[i]];
      at = stop;
    }
  }
  std::vector<int64_t> result(counts.begin(), counts.begin() + bins);
  for (int t = 1; t < threads; ++t)
    for (int b = 0; b < bins; ++b) result[b] += counts[static_cast<size_t>(t) * row + b];
  return result;
}

namespace {

// ε from a draw a: its top 12 bits pick the bin through the quantile table, its low 20 bits place ε
// inside it. One fused multiply-add, spelled out so that the vector and scalar paths give the same floats.
inline float table_noise(uint32_t a, const int32_t* quantile_bins) {
  const float within = static_cast<float>(a & 0xfffffU) * (1.0f / 1048576.0f);
  return std::fma(static_cast<float>(quantile_bins[a >> 20]) + within, 1.0f / kHistogramBins, -0.5f);
}

// ε of element `index` of the draw keyed `k`: from the quantile table when set, else uniform; a pure
// function of the key and the element index, so a draw does not depend on how threads split the runs.
inline float noise_of(int64_t index, uint32_t k, const int32_t* quantile_bins) {
  const uint32_t a = hash32(static_cast<uint32_t>(index) ^ k);
  return quantile_bins ? table_noise(a, quantile_bins)
                       : std::fma(static_cast<float>(a), 1.0f / 4294967296.0f, -0.5f);
}

// One output of the proxy: truncated to α or low, else shifted by ε steps.
inline float proxy_value(float v, float eps, float alpha, float low, float step) {
  return v >= alpha ? alpha : v <= low ? low : v + eps * step;
}

#if defined(__AVX512F__)
// GCC 12's own intrinsic headers trip -Wmaybe-uninitialized (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// proxy_value(x[i], noise_of(begin + i, ...)) 16 lanes at a time, draw and truncation in one pass (a
// buffer of ε between two loops costs half again as much); returns how many elements it did. GCC 12's
// tuning for this CPU emulates the table gather with scalar loads; the explicit vpgatherdd is about 3×
// faster. Every operation is the scalar path's (v + ε·step written as a multiply and an add, which the
// compiler contracts exactly as it does the scalar expression), so both give the same floats.
int64_t proxy_run_avx512(const float* x, float* y, int64_t begin, int64_t n, uint32_t k,
                         const int32_t* quantile_bins, float alpha, float low, float step) {
  const __m512i key = _mm512_set1_epi32(static_cast<int>(k));
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512 top = _mm512_set1_ps(alpha), bottom = _mm512_set1_ps(low), delta = _mm512_set1_ps(step);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i a =
        _mm512_xor_si512(_mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(begin + i)), lanes), key);
    a = _mm512_xor_si512(a, _mm512_srli_epi32(a, 16));  // hash32, lane by lane
    a = _mm512_mullo_epi32(a, _mm512_set1_epi32(0x7feb352d));
    a = _mm512_xor_si512(a, _mm512_srli_epi32(a, 15));
    a = _mm512_mullo_epi32(a, _mm512_set1_epi32(static_cast<int>(0x846ca68bU)));
    a = _mm512_xor_si512(a, _mm512_srli_epi32(a, 16));
    __m512 eps;
    if (quantile_bins) {
      const __m512 bin =
          _mm512_cvtepi32_ps(_mm512_i32gather_epi32(_mm512_srli_epi32(a, 20), quantile_bins, 4));
      const __m512 within = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(a, _mm512_set1_epi32(0xfffff))),
                                          _mm512_set1_ps(1.0f / 1048576.0f));
      eps = _mm512_fmadd_ps(_mm512_add_ps(bin, within), _mm512_set1_ps(1.0f / kHistogramBins),
                            _mm512_set1_ps(-0.5f));
    } else {
      eps =
          _mm512_fmadd_ps(_mm512_cvtepu32_ps(a), _mm512_set1_ps(1.0f / 4294967296.0f), _mm512_set1_ps(-0.5f));
    }
    const __m512 v = _mm512_loadu_ps(x + i);
    __m512 out = _mm512_add_ps(v, _mm512_mul_ps(eps, delta));
    out = _mm512_mask_mov_ps(out, _mm512_cmp_ps_mask(v, bottom, _CMP_LE_OQ), bottom);
    out = _mm512_mask_mov_ps(out, _mm512_cmp_ps_mask(v, top, _CMP_GE_OQ), top);
    _mm512_storeu_ps(y + i, out);
  }
  return i;
}
#pragma GCC diagnostic pop
#endif

// The proxy over elements [begin, begin + n) of one channel (x and y point at element `begin`), with ε
// given (tests) or drawn from the table (null for uniform noise) and key.
void proxy_run(const float* __restrict x, float* __restrict y, int64_t begin, int64_t n,
               const NoiseProxy& proxy, const int32_t* quantile_bins, float alpha, float low, float step) {
  if (proxy.given_noise) {
    const float* eps = proxy.given_noise + begin;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = proxy_value(x[i], eps[i], alpha, low, step);
    return;
  }
  // One 32-bit draw per element, keyed by both halves of the key.
  const auto k = static_cast<uint32_t>(proxy.key) ^ hash32(static_cast<uint32_t>(proxy.key >> 32));
  static_assert(kQuantiles == 4096, "the quantile takes the top 12 bits of the draw");
  int64_t done = 0;
#if defined(__AVX512F__)
  done = proxy_run_avx512(x, y, begin, n, k, quantile_bins, alpha, low, step);
#endif
  for (int64_t i = done; i < n; ++i)
    y[i] = proxy_value(x[i], noise_of(begin + i, k, quantile_bins), alpha, low, step);
}

// Noise-proxy backward of one run of one channel, with the forward's truncation tests (low < α, so an
// element is never both above and below); `noise` sums g·(y − x) = g·ε·α/n inside.
void noise_backward_run(const float* __restrict x, const float* __restrict y, const float* __restrict g,
                        float* __restrict dx, int64_t n, float alpha, float low, float& over, float& under,
                        float& noise) {
  float o = 0, u = 0, e = 0;
#pragma omp simd reduction(+ : o, u, e)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const bool above = v >= alpha, below = v <= low, inside = !above && !below;
    dx[i] = inside ? g[i] : 0.0f;
    o += above ? g[i] : 0.0f;
    u += below ? g[i] : 0.0f;
    e += inside ? g[i] * (y[i] - v) : 0.0f;
  }
  over = o;
  under = u;
  noise = e;
}

}  // namespace

void noise_proxy_forward(const float* x, float* y, int64_t channels, int64_t inner, const NoiseProxy& proxy) {
  const int64_t total = channels * inner;
  const std::vector<int32_t> table =
      proxy.histogram && !proxy.given_noise
          ? quantile_table(rounding_error_histogram(x, channels, inner, proxy, kHistogramBins))
          : std::vector<int32_t>();
  const float lo = lower_bound_factor(proxy.is_signed);
  const int64_t runs = (total + kRun - 1) / kRun;
  const int32_t* quantile_bins = table.empty() ? nullptr : table.data();
#pragma omp parallel for if (total > kParallelThreshold)
  for (int64_t r = 0; r < runs; ++r) {
    const int64_t begin = r * kRun, end = std::min(total, begin + kRun);
    // A run may straddle channels: split it at channel boundaries.
    for (int64_t at = begin; at < end;) {
      const int64_t c = at / inner, stop = std::min(end, (c + 1) * inner);
      const float alpha = proxy.alpha[c];
      proxy_run(x + at, y + at, at, stop - at, proxy, quantile_bins, alpha, lo * alpha, alpha / proxy.levels);
      at = stop;
    }
  }
}

NoiseGradSums noise_proxy_backward(const float* x, const float* y, const float* g, float* dx,
                                   int64_t channels, int64_t inner, const NoiseProxy& proxy) {
  NoiseGradSums sums{std::vector<double>(channels), std::vector<double>(channels),
                     std::vector<double>(channels)};
  const float lo = lower_bound_factor(proxy.is_signed);
  for (int64_t c = 0; c < channels; ++c) {
    const int64_t first = c * inner;
    const float alpha = proxy.alpha[c], low = lo * alpha;
    const Sums3 s = sum_runs(inner, [=](int64_t begin, int64_t end, float& over, float& under, float& noise) {
      const int64_t at = first + begin;
      noise_backward_run(x + at, y + at, g + at, dx + at, end - begin, alpha, low, over, under, noise);
    });
    sums.over[c] = s.a;
    sums.under[c] = s.b;
    sums.noise[c] = s.c * proxy.levels / alpha;  // Σ g·(y − x) / (α/n)
  }
  return sums;
}

}  // namespace qat::kernels
