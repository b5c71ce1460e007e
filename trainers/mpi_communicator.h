#pragma once
// MpiCommunicator: the ranks of MPI_COMM_WORLD (mpirun -np N); every call checked, every wait bounded.
#include <mpi.h>

#include <vector>

#include "trainers/communicator.h"

namespace qat {

/// Data-parallel collectives over MPI. Initializes MPI (unless already done) and finalizes it at the end.
/// Errors return instead of aborting (MPI_ERRORS_RETURN) and name the rank; a collective that the other
/// ranks do not join within the timeout fails instead of hanging.
class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator();
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void start_average(std::span<float> values) override;
  void wait_all() override;
  void broadcast(std::span<std::byte> bytes) override;
  void barrier() override;
  void set_timeout(double seconds) override;

 private:
  void check(int code, const char* call) const;
  void wait(std::vector<MPI_Request>& requests, const char* what);

  MPI_Comm comm_ = MPI_COMM_NULL;
  bool initialized_here_ = false;
  int rank_ = 0, size_ = 1;
  double timeout_seconds_ = 300.0;
  std::vector<MPI_Request> averaging_;
  std::vector<std::span<float>> averaged_values_;
};

}  // namespace qat
