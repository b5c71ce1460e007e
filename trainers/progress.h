#pragma once
// Progress: a live progress line with throughput and ETA on a terminal, plain periodic lines otherwise.
#include <chrono>
#include <cstdint>
#include <string>

namespace qat {

/// Reports progress of one phase (e.g. "epoch 3/15 train") over `total` steps to stderr.
class Progress {
 public:
  Progress(std::string label, int64_t total);
  /// Marks one more step of `samples` samples done, with the current running loss.
  void step(double loss, int64_t samples);
  /// Ends the line (terminal) or prints the summary line (otherwise).
  void finish();

 private:
  void print(bool final);
  std::string label_;
  int64_t total_, samples_ = 0, done_ = 0;
  double loss_ = 0.0;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace qat
