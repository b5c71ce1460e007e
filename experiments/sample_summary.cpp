#include "experiments/sample_summary.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qat {

SampleSummary summarize(const std::vector<double>& values) {
  std::vector<double> finite;
  for (const double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  if (finite.empty()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {.mean = nan, .std = nan, .min = nan, .max = nan, .n = 0};
  }
  const auto n = static_cast<double>(finite.size());
  SampleSummary s{.mean = 0,
                  .std = 0,
                  .min = *std::min_element(finite.begin(), finite.end()),
                  .max = *std::max_element(finite.begin(), finite.end()),
                  .n = finite.size()};
  for (const double x : finite) s.mean += x / n;
  for (const double x : finite) s.std += (x - s.mean) * (x - s.mean);
  s.std = finite.size() > 1 ? std::sqrt(s.std / (n - 1)) : 0.0;
  return s;
}

}  // namespace qat
