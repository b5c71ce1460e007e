#pragma once
// SingleProcessCommunicator: a run without mpirun — one rank, every collective a no-op.
#include "trainers/communicator.h"

namespace qat {

/// The communicator of a process training alone.
class SingleProcessCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void start_average(std::span<float>) override {}
  void wait_all() override {}
  void broadcast(std::span<std::byte>) override {}
  void barrier() override {}
  void set_timeout(double) override {}
};

}  // namespace qat
