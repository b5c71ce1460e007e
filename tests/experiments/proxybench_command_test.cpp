// qat proxybench on a tiny benchmark (ResNet-20 from the committed float checkpoint, 2 fine-tuning steps of
// 16 images, 32 held-out images): a build killed mid-way and resumed stores the rows of an uninterrupted
// one; rank and evolve run on it; bad input names what is wrong.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "datasets/fashion_mnist.h"
#include "tests/experiments/qat_process.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> bench_args(const std::string& what, const std::string& out,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{
      "proxybench", what,
      std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_resnet20_proxybench.pbtxt", "--out", out};
  const std::string checkpoint =
      "init_checkpoint=" + std::string(QAT_SOURCE_DIR) + "/experiments/checkpoints/fmnist_resnet20_fp32.h5";
  for (const std::string& s :
       {checkpoint, std::string("proxybench.configs_per_band=1"), std::string("proxybench.finetune_steps=2"),
        std::string("proxybench.eval_samples=32"), std::string("train.batch_size=16"),
        std::string("train.eval_batch_size=32"), std::string("ptq.calib_samples=16"),
        std::string("proxybench.bootstrap_resamples=20"), std::string("proxybench.population=4"),
        std::string("proxybench.generations=2"), std::string("allocate.feature_samples=8")})
    args.insert(args.end(), {"--set", s});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// bench.csv without its last column (seconds, the only one that depends on timing).
std::vector<std::string> rows_without_seconds(const fs::path& dir) {
  std::ifstream in(dir / "bench.csv");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}

size_t lines_of(const fs::path& file) {
  std::ifstream in(file);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

class ProxybenchCommand : public testing::Test {
 protected:
  void SetUp() override {
    QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
    dir_ = fs::temp_directory_path() / ("qat_proxybench_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ProxybenchCommand, AKilledBuildResumesToTheSameRows) {
  const fs::path killed = dir_ / "killed";
  // Killed once the first rows are stored, somewhere in a later one.
  const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t pid = test::spawn_qat(bench_args("build", killed.string()), null_fd);
  close(null_fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (lines_of(killed / "bench.csv") < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_EQ(test::exit_code_of(pid), 128 + SIGKILL);
  const size_t stored = lines_of(killed / "bench.csv");
  EXPECT_GE(stored, 2u);
  EXPECT_LT(stored, 7u) << "the build finished before the kill";

  const test::Outcome resumed = test::run_qat(bench_args("build", killed.string()));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(test::json_field(resumed.output, "resumed_rows"), static_cast<double>(stored - 1));
  const test::Outcome whole = test::run_qat(bench_args("build", (dir_ / "whole").string()));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(test::json_field(whole.output, "rows"), 6.0);  // 3 uniform + 3 bands × 1
  EXPECT_EQ(rows_without_seconds(killed), rows_without_seconds(dir_ / "whole"));

  // Quantized from the float model, 2-bit weights everywhere lose accuracy that 4 bits keep.
  const std::vector<std::string> rows = rows_without_seconds(killed);
  const auto acc_ptq = [&](size_t row) {
    std::stringstream fields(rows[row]);
    std::string f;
    for (int i = 0; i < 8; ++i) std::getline(fields, f, ',');
    return std::stod(f);
  };
  EXPECT_GT(acc_ptq(3), 0.7);  // id 2: uniform 4 bits
  EXPECT_GT(acc_ptq(3), acc_ptq(1));

  const test::Outcome ranked = test::run_qat(bench_args("rank", killed.string(), {"--proxy", "snip"}));
  ASSERT_EQ(ranked.exit_code, 0) << ranked.output;
  EXPECT_EQ(lines_of(killed / "rank.csv"), 1u + 2 * 2 * 4);  // labels × splits × (all + 3 bands)
  const double tau = test::json_field(ranked.output, "snip_heldout_tau");
  EXPECT_GE(tau, -1.0);
  EXPECT_LE(tau, 1.0);
  const test::Outcome evolved = test::run_qat(bench_args("evolve", killed.string()));
  ASSERT_EQ(evolved.exit_code, 0) << evolved.output;
  EXPECT_TRUE(fs::exists(killed / "emq_evolved.json"));
  EXPECT_GE(test::json_field(evolved.output, "search_tau"), -1.0);
}

TEST_F(ProxybenchCommand, BadInputIsNamed) {
  const std::string out = (dir_ / "bad").string();
  const test::Outcome none = test::run_qat(bench_args("rank", out, {"--proxy", "snip"}));
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.output.find("no benchmark rows"), std::string::npos) << none.output;
  const test::Outcome built = test::run_qat(bench_args("build", out, {"--stop-after", "1"}));
  ASSERT_EQ(built.exit_code, 0) << built.output;
  const test::Outcome unknown = test::run_qat(bench_args("rank", out, {"--proxy", "hawq_v3"}));
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("unknown proxy 'hawq_v3' (known: all, hawq_v1, hawq_v2, fisher, snip"),
            std::string::npos)
      << unknown.output;
  const test::Outcome steps =
      test::run_qat(bench_args("build", out, {"--set", "proxybench.finetune_steps=3", "--stop-after", "1"}));
  EXPECT_NE(steps.exit_code, 0);
  EXPECT_NE(steps.output.find("bench.json: the stored rows were measured with other settings"),
            std::string::npos)
      << steps.output;
  const test::Outcome verb = test::run_qat(bench_args("train", out));
  EXPECT_NE(verb.output.find("unknown subcommand 'train' (known: build, rank, evolve)"), std::string::npos)
      << verb.output;
}

}  // namespace
}  // namespace qat
