// The NIPQ rounding-error histogram kernel against a plain loop: every element of a tensor up to the
// sample size (per-channel truncations, truncated elements skipped), and the sampled path of a larger
// tensor whose rounding errors all fall in one known bin with every other element truncated. The noise
// proxy's draw of an element depends only on its index: the same whether the element falls in the
// vectorized part of a channel or in its scalar tail.
#include "engine/kernels/fake_quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/random.h"

namespace qat {
namespace {

constexpr int kBins = 256;

// Bin counts of r = ⌊v⌉ − v, v = x·n/α, over the untruncated elements, element by element.
std::vector<int64_t> plain_histogram(const std::vector<float>& x, const std::vector<float>& alpha,
                                     float levels, bool is_signed) {
  std::vector<int64_t> counts(kBins, 0);
  const auto inner = static_cast<int64_t>(x.size() / alpha.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float a = alpha[i / inner], v = x[i];
    if (v >= a || v <= (is_signed ? -a : 0.0f)) continue;
    const float scaled = v * (levels / a), r = std::nearbyint(scaled) - scaled;
    ++counts[std::clamp(static_cast<int>((r + 0.5f) * kBins), 0, kBins - 1)];
  }
  return counts;
}

TEST(RoundingErrorHistogram, SmallTensorCountsEveryElementAsAPlainLoop) {
  for (bool is_signed : {true, false}) {
    const std::vector<float> alpha{0.7f, 1.9f, 3.1f};
    const std::vector<float> x = Generator(3).normal_tensor({3, 5000}, 0.0f, 2.0f).to_vector();
    const kernels::NoiseProxy proxy{.alpha = alpha.data(), .levels = 7.0f, .is_signed = is_signed, .key = 5};
    EXPECT_EQ(kernels::rounding_error_histogram(x.data(), 3, 5000, proxy, kBins),
              plain_histogram(x, alpha, 7.0f, is_signed))
        << (is_signed ? "signed" : "unsigned");
  }
}

TEST(RoundingErrorHistogram, LargeTensorSamplesUntruncatedElementsOnly) {
  // 2 × 100,000 elements, more than the 65,536 sampled: odd elements sit just over a quarter step below a
  // grid point (r = 0.25 + 1/512, the middle of bin 192), even ones beyond the truncation. Every contiguous
  // sample chunk then holds as many untruncated elements as truncated ones.
  const std::vector<float> alpha{1.5f, 4.0f};
  const float levels = 7.0f;
  const int64_t inner = 100000;
  Generator gen(9);
  std::vector<float> x(2 * inner);
  for (int64_t i = 0; i < 2 * inner; ++i) {
    const float a = alpha[i / inner], step = a / levels;
    x[i] = i % 2 ? (static_cast<float>(gen.below(13)) - 6.0f - (0.25f + 1.0f / 512)) * step : a + 1.0f;
  }
  const kernels::NoiseProxy proxy{.alpha = alpha.data(), .levels = levels, .is_signed = true, .key = 11};
  const std::vector<int64_t> counts = kernels::rounding_error_histogram(x.data(), 2, inner, proxy, kBins);
  for (int b = 0; b < kBins; ++b) EXPECT_EQ(counts[b], b == 192 ? 65536 / 2 : 0) << "bin " << b;
}

TEST(NoiseProxy, DrawDoesNotDependOnChannelSplits) {
  // 64 channels of 37 elements with one truncation, against the same elements as one channel: the
  // channel boundaries move elements between the 16-lane path and the scalar tail. Values of the size of
  // the noise, so that any difference in how a path rounds shows.
  for (bool histogram : {true, false}) {
    const std::vector<float> x = Generator(13).normal_tensor({64 * 37}, 0.0f, 0.05f).to_vector(),
                             alpha(64, 1.3f);
    std::vector<float> split(x.size()), whole(x.size());
    kernels::NoiseProxy proxy{.alpha = alpha.data(), .levels = 7.0f, .histogram = histogram, .key = 17};
    kernels::noise_proxy_forward(x.data(), split.data(), 64, 37, proxy);
    kernels::noise_proxy_forward(x.data(), whole.data(), 1, 64 * 37, proxy);
    EXPECT_EQ(split, whole) << (histogram ? "histogram" : "uniform");
  }
}

}  // namespace
}  // namespace qat
