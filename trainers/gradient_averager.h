#pragma once
// GradientAverager: data-parallel gradient averaging in buckets that overlap the backward pass.
#include <cstdint>
#include <vector>

#include "autograd/variable.h"
#include "trainers/communicator.h"

namespace qat {

/// Averages the gradients of `params` over the ranks of `communicator`. Parameters are grouped in buckets
/// in reverse order (the order backward completes them); a bucket's average starts as soon as backward
/// has completed all its gradients, so communication overlaps the rest of the backward pass.
class GradientAverager {
 public:
  GradientAverager(Communicator& communicator, std::vector<Variable> params, int64_t bucket_floats = 1 << 17);
  ~GradientAverager();
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;
  /// Arms the buckets for the next backward pass.
  void start_step();
  /// After backward: starts the buckets it did not complete (parameters it did not reach), waits for all
  /// and replaces every gradient by its average; a parameter without a gradient on every rank keeps none.
  void finish_step();
  /// Number of buckets.
  size_t buckets() const { return buckets_.size(); }
  /// Seconds spent in finish_step so far: the communication that backward did not hide.
  double wait_seconds() const { return wait_seconds_; }
  /// Bytes one rank sends into the averages of one step.
  int64_t bytes_per_step() const;

 private:
  struct Bucket {
    std::vector<size_t> params;
    int64_t floats = 0;  ///< gradient values; the buffer adds one "has a gradient" flag per parameter
    size_t ready = 0;
    bool started = false;
    std::vector<float> buffer;
  };
  void on_grad_ready(size_t bucket);
  void start(Bucket& bucket);
  void write_back(const Bucket& bucket);

  Communicator& communicator_;
  std::vector<Variable> params_;
  std::vector<Bucket> buckets_;
  bool armed_ = false;
  double wait_seconds_ = 0.0;
};

}  // namespace qat
