// The MPI communicator on 2 ranks (ctest runs this binary under mpirun): averages, broadcasts, and a
// collective another rank never joins fails within the timeout, naming the waiting rank.
#include "trainers/mpi_communicator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "engine/error.h"

namespace qat {
namespace {

// A communicator of its own next to the world's (which initialized MPI and finalizes it at exit).
MpiCommunicator beside_world() {
  world_communicator();
  return {};
}

TEST(MpiCommunicator, AveragesAndBroadcastsOverTheRanks) {
  MpiCommunicator ranks = beside_world();
  ASSERT_GE(ranks.size(), 2) << "run under mpirun -np 2 (ctest does)";
  const auto r = static_cast<float>(ranks.rank());
  std::vector<float> first{r, 2 * r}, second{10 + r};
  ranks.start_average(first);
  ranks.start_average(second);
  ranks.wait_all();
  const float mean_rank = static_cast<float>(ranks.size() - 1) / 2;
  EXPECT_FLOAT_EQ(first[0], mean_rank);
  EXPECT_FLOAT_EQ(first[1], 2 * mean_rank);
  EXPECT_FLOAT_EQ(second[0], 10 + mean_rank);
  int value = 100 + ranks.rank();
  ranks.broadcast(std::as_writable_bytes(std::span(&value, 1)));
  EXPECT_EQ(value, 100);
}

TEST(MpiCommunicator, ACollectiveARankNeverJoinsFailsWithinTheTimeoutNamingTheRank) {
  MpiCommunicator ranks = beside_world();
  ASSERT_GE(ranks.size(), 2) << "run under mpirun -np 2 (ctest does)";
  ranks.set_timeout(0.5);
  if (ranks.rank() == 0) {
    const auto start = std::chrono::steady_clock::now();
    try {
      ranks.barrier();
      ADD_FAILURE() << "the barrier completed without rank 1";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("MPI rank 0 of"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("did not complete within 0.5 s"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30.0);
  }
  world_communicator().barrier();
  // Rank 1 joins late, completing the barrier rank 0 gave up on.
  if (ranks.rank() == 1) ranks.barrier();
  world_communicator().barrier();
}

}  // namespace
}  // namespace qat
