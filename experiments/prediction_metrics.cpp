#include "experiments/prediction_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace qat {
namespace {

constexpr int kCalibrationBins = 15;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double accuracy(const TestPredictions& p) {
  if (p.top1.empty()) return kNaN;
  size_t right = 0;
  for (size_t i = 0; i < p.top1.size(); ++i) right += p.top1[i] == p.targets[i];
  return static_cast<double>(right) / static_cast<double>(p.top1.size());
}

double expected_calibration_error(const TestPredictions& p) {
  if (p.top1.empty()) return kNaN;
  std::vector<double> count(kCalibrationBins), right(kCalibrationBins), confidence(kCalibrationBins);
  for (size_t i = 0; i < p.top1.size(); ++i) {
    const int bin = std::clamp(static_cast<int>(p.confidence[i] * kCalibrationBins), 0, kCalibrationBins - 1);
    count[bin] += 1;
    right[bin] += p.top1[i] == p.targets[i];
    confidence[bin] += p.confidence[i];
  }
  double ece = 0;
  for (int b = 0; b < kCalibrationBins; ++b)
    if (count[b] > 0) ece += std::abs(right[b] - confidence[b]) / static_cast<double>(p.top1.size());
  return ece;
}

double class_accuracy_spread(const TestPredictions& p) {
  if (p.top1.empty()) return kNaN;
  std::map<int32_t, std::pair<double, double>> per_class;  // target -> (right, total)
  for (size_t i = 0; i < p.top1.size(); ++i) {
    auto& [right, total] = per_class[p.targets[i]];
    right += p.top1[i] == p.targets[i];
    total += 1;
  }
  double lo = 1, hi = 0;
  for (const auto& [target, counts] : per_class) {
    lo = std::min(lo, counts.first / counts.second);
    hi = std::max(hi, counts.first / counts.second);
  }
  return hi - lo;
}

double flip_rate(const std::vector<int32_t>& top1, const std::vector<int32_t>& reference) {
  if (top1.empty() || top1.size() != reference.size()) return kNaN;
  size_t flips = 0;
  for (size_t i = 0; i < top1.size(); ++i) flips += top1[i] != reference[i];
  return static_cast<double>(flips) / static_cast<double>(top1.size());
}

}  // namespace qat
