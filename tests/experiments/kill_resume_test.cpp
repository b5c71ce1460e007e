// A run can be killed at any moment (SIGKILL: no handler runs, a checkpoint or the metrics log may be
// half-written) and resumed to the same final numbers as an uninterrupted run: here it is killed twice
// at different points of its epochs, each time resumed, and compared with a run that was never stopped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "datasets/fashion_mnist.h"
#include "tests/experiments/qat_process.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> train_args(const std::string& out, bool resume) {
  std::vector<std::string> args{
      "train", std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_convnet_demo.pbtxt", "--out", out};
  // 8192 images: a resumed run must outlast run_and_kill's 700 ms on a quiet machine (with 512 it
  // finished in 0.5 s and the kill came too late).
  for (const char* s : {"data.train_limit=8192", "data.test_limit=256", "model.width=4",
                        "train.batch_size=32", "train.epochs=3"})
    args.insert(args.end(), {"--set", s});
  if (resume) args.push_back("--resume");
  return args;
}

// Starts a run (resuming when `resume`) and kills it `delay` after its directory first holds last.h5
// (or right away when the run already had one); returns false when the run finished before the kill.
bool run_and_kill(const std::string& out, bool resume, std::chrono::milliseconds delay) {
  const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t pid = test::spawn_qat(train_args(out, resume), null_fd);
  close(null_fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(fs::path(out) / "last.h5") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(delay);
  const bool killed = kill(pid, SIGKILL) == 0;
  const int code = test::exit_code_of(pid);
  return killed && code == 128 + SIGKILL;
}

TEST(KillAndResume, AKilledRunResumesToTheNumbersOfAnUninterruptedOne) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_kill_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string run = (dir / "killed").string();
  EXPECT_TRUE(run_and_kill(run, false, std::chrono::milliseconds(0)));   // just after epoch 1's checkpoint
  EXPECT_TRUE(run_and_kill(run, true, std::chrono::milliseconds(700)));  // somewhere in a later epoch
  const test::Outcome resumed = test::run_qat(train_args(run, true));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const test::Outcome whole = test::run_qat(train_args((dir / "whole").string(), false));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_GT(test::json_field(whole.output, "test_accuracy"), 0.5);
  EXPECT_EQ(test::json_field(resumed.output, "test_accuracy"),
            test::json_field(whole.output, "test_accuracy"));
  EXPECT_EQ(test::json_field(resumed.output, "final_train_loss"),
            test::json_field(whole.output, "final_train_loss"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
