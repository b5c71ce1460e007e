#pragma once
// Timing helpers shared by `qat bench` and `qat report`: seconds of one call and the median of a sample.
#include <functional>
#include <vector>

namespace qat {

/// Wall-clock seconds `run` takes.
double seconds_of(const std::function<void()>& run);
/// The median of `values` (the mean of the middle two for an even count); `values` must not be empty.
double median(std::vector<double> values);

}  // namespace qat
