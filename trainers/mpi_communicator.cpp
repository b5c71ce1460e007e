#include "trainers/mpi_communicator.h"

#include <chrono>
#include <climits>
#include <string>
#include <thread>

#include "engine/error.h"

namespace qat {

MpiCommunicator::MpiCommunicator() {
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    check(MPI_Init(nullptr, nullptr), "MPI_Init");
    initialized_here_ = true;
  }
  // First, so that later errors come back to check() instead of aborting the job.
  check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

MpiCommunicator::~MpiCommunicator() {
  MPI_Comm_free(&comm_);
  if (initialized_here_) MPI_Finalize();
}

void MpiCommunicator::check(int code, const char* call) const {
  if (code == MPI_SUCCESS) return;
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, message, &length);
  detail::fail("MPI rank ", rank_, " of ", size_, ": ", call, " failed: ", std::string(message, length));
}

// Polls rather than blocking in MPI_Waitall: Open MPI progresses non-blocking collectives only inside MPI
// calls, and a blocking wait could not give up when a rank has died without its runtime noticing.
void MpiCommunicator::wait(std::vector<MPI_Request>& requests, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds_);
  for (;;) {
    int done = 0;
    check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE), what);
    if (done) break;
    QAT_CHECK(std::chrono::steady_clock::now() < deadline, "MPI rank ", rank_, " of ", size_, ": ", what,
              " did not complete within ", timeout_seconds_,
              " s (train.collective_timeout_seconds): another rank died or stopped");
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  requests.clear();
}

void MpiCommunicator::start_average(std::span<float> values) {
  QAT_CHECK(values.size() <= static_cast<size_t>(INT_MAX), "MPI rank ", rank_, ": ", values.size(),
            " values exceed one MPI message");
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_FLOAT, MPI_SUM,
                       comm_, &request),
        "MPI_Iallreduce");
  averaging_.push_back(request);
  averaged_values_.push_back(values);
  // Lets the reductions already started advance while backward continues (see wait()).
  int done = 0;
  check(MPI_Testall(static_cast<int>(averaging_.size()), averaging_.data(), &done, MPI_STATUSES_IGNORE),
        "MPI_Testall");
}

void MpiCommunicator::wait_all() {
  wait(averaging_, "MPI_Iallreduce");
  const float scale = 1.0f / static_cast<float>(size_);
  for (std::span<float> values : averaged_values_)
    for (float& v : values) v *= scale;
  averaged_values_.clear();
}

void MpiCommunicator::broadcast(std::span<std::byte> bytes) {
  QAT_CHECK(bytes.size() <= static_cast<size_t>(INT_MAX), "MPI rank ", rank_, ": ", bytes.size(),
            " bytes exceed one MPI message");
  std::vector<MPI_Request> request(1, MPI_REQUEST_NULL);
  check(MPI_Ibcast(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, 0, comm_, request.data()),
        "MPI_Ibcast");
  wait(request, "MPI_Ibcast");
}

void MpiCommunicator::barrier() {
  std::vector<MPI_Request> request(1, MPI_REQUEST_NULL);
  check(MPI_Ibarrier(comm_, request.data()), "MPI_Ibarrier");
  wait(request, "MPI_Ibarrier");
}

void MpiCommunicator::set_timeout(double seconds) {
  QAT_CHECK(seconds > 0, "MPI rank ", rank_, ": collective timeout must be positive, got ", seconds);
  timeout_seconds_ = seconds;
}

}  // namespace qat
