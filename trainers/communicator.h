#pragma once
// Communicator: the processes of a data-parallel run — gradient averaging, broadcast from rank 0, barrier.
#include <cstddef>
#include <span>

#include "layers/module.h"

namespace qat {

/// The ranks training one model together; rank 0 holds the reference copy and alone writes files.
class Communicator {
 public:
  virtual ~Communicator() = default;
  /// This process's index, 0..size()-1.
  virtual int rank() const = 0;
  /// Number of processes.
  virtual int size() const = 0;
  /// Starts replacing `values` by their average over the ranks; complete once wait_all() returns.
  virtual void start_average(std::span<float> values) = 0;
  /// Waits until every started average is complete.
  virtual void wait_all() = 0;
  /// Replaces `bytes` on every rank by rank 0's (same length everywhere).
  virtual void broadcast(std::span<std::byte> bytes) = 0;
  /// Returns once every rank has called it.
  virtual void barrier() = 0;
  /// Seconds a collective may wait for the other ranks before failing (a dead or stuck rank).
  virtual void set_timeout(double seconds) = 0;

  /// True on rank 0.
  bool is_root() const { return rank() == 0; }
  /// Averages `values` over the ranks (start_average, then wait_all).
  void average(std::span<float> values);
};

/// This process's communicator: MPI's world when launched by mpirun (in a build with MPI), else this
/// process alone.
Communicator& world_communicator();
/// Gives every rank rank 0's parameters, buffers and global random state.
void broadcast_from_root(Communicator& communicator, Module& model);
/// Gives every rank rank 0's buffers (e.g. normalization statistics) alone.
void broadcast_buffers_from_root(Communicator& communicator, Module& model);

}  // namespace qat
