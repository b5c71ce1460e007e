#pragma once
// SampleSummary: mean, sample standard deviation, range and count of a set of values (seeds of a cell).
#include <cstddef>
#include <vector>

namespace qat {

/// Summary of the finite values of a sample; all NaN when it has none.
struct SampleSummary {
  double mean = 0, std = 0, min = 0, max = 0;
  size_t n = 0;  ///< finite values counted
};

/// Mean, sample standard deviation (n − 1; 0 for one value), min and max of the finite `values`.
SampleSummary summarize(const std::vector<double>& values);

}  // namespace qat
