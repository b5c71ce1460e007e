#pragma once
// Alignment metrics of a classifier's test predictions (EVALUATION.md): calibration error, the spread of
// per-class accuracy and the flip rate against another model's predictions.
#include <cstdint>
#include <vector>

namespace qat {

/// Top-1 class, its softmax probability and the target of every test example.
struct TestPredictions {
  std::vector<int32_t> top1;
  std::vector<double> confidence;
  std::vector<int32_t> targets;
};

/// Fraction of examples whose top-1 is the target.
double accuracy(const TestPredictions& p);
/// ECE over 15 equal-width confidence bins: Σ_b (n_b/N)·|acc_b − conf_b|.
double expected_calibration_error(const TestPredictions& p);
/// Max − min per-class accuracy over the classes present among the targets.
double class_accuracy_spread(const TestPredictions& p);
/// Fraction of examples whose top-1 differs; NaN when the two sets differ in size or are empty.
double flip_rate(const std::vector<int32_t>& top1, const std::vector<int32_t>& reference);

}  // namespace qat
