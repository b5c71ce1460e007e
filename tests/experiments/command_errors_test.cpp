// Bad input of every class, given to the real `qat` binary in a subprocess: it exits with 1 after one
// `qat: error:` line that names the flag, file or field, never with an uncaught exception or a signal,
// and leaves the files it was pointed at as they were.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "datasets/fashion_mnist.h"
#include "tests/experiments/qat_process.h"
#include "tests/test_util.h"
#include "trainers/checkpoint.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using test::Outcome;
using test::run_qat;
using test::snapshot;

// A qat error: exit code 1, one "qat: error:" line, and every `parts` named in it.
void expect_error(const Outcome& o, const std::vector<std::string>& parts) {
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(o.output.find("qat: error:"), std::string::npos) << o.output;
  EXPECT_EQ(o.output.find("terminate called"), std::string::npos) << o.output;
  for (const std::string& part : parts)
    EXPECT_NE(o.output.find(part), std::string::npos) << part << " in\n" << o.output;
}

class CommandErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qat_command_errors_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& content) const {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  // qat train of the small demo run (256 images, width 4) with `extra` arguments.
  static std::vector<std::string> train_args(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"train", demo_config};
    for (const char* s : {"data.train_limit=256", "data.test_limit=128", "model.width=4",
                          "train.batch_size=64", "train.epochs=2", "data.prefetch=0"})
      args.insert(args.end(), {"--set", s});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  static inline const std::string demo_config =
      std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_convnet_demo.pbtxt";
  static inline const std::string ptq_config =
      std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_resnet20_ptq.pbtxt";
  fs::path dir_;
};

TEST_F(CommandErrors, BadFlagsNameTheFlag) {
  expect_error(run_qat({"train", demo_config, "--stop-after", "abc"}), {"--stop-after", "abc"});
  expect_error(run_qat({"train", demo_config, "--stop-after", "99999999999999999999"}), {"--stop-after"});
  expect_error(run_qat({"bench", "--model", "resnet20", "--batch", "abc"}), {"--batch", "abc"});
  expect_error(run_qat({"bench", "--model", "resnet20", "--batch", "1000000000000"}), {"--batch"});
  expect_error(run_qat({"train", demo_config, "--frobnicate"}), {"--frobnicate"});
  expect_error(run_qat({"train", demo_config, "--out"}), {"--out", "needs a value"});
  expect_error(run_qat({"frobnicate"}), {"frobnicate"});
  expect_error(run_qat({"train", demo_config, "--resume"}), {"--resume", "--out"});
}

TEST_F(CommandErrors, BadConfigsNameTheFileAndField) {
  const auto before = snapshot(dir_);
  expect_error(run_qat({"train", file("empty.pbtxt", "")}), {"empty.pbtxt", "empty"});
  expect_error(run_qat({"train", file("comments.pbtxt", "# nothing\n")}), {"comments.pbtxt"});
  expect_error(run_qat({"train", dir_.string()}), {dir_.string(), "directory"});
  expect_error(run_qat({"train", (dir_ / "missing.pbtxt").string()}), {"missing.pbtxt", "no such file"});
  expect_error(run_qat({"train", file("bad.pbtxt", "train { lr: -0.1 }\n")}), {"bad.pbtxt", "train.lr"});
  expect_error(run_qat({"train", demo_config, "--set", "train.batch_size=0"}), {"train.batch_size: 0"});
  expect_error(run_qat({"train", demo_config, "--set", "model.width=1000000000"}), {"model.width"});
  expect_error(run_qat({"train", demo_config, "--set", "train.lr=nan"}), {"train.lr", "finite"});
  expect_error(run_qat({"train", demo_config, "--set", "quant.first_last_bits=12"}),
               {"quant.first_last_bits"});
  expect_error(run_qat({"train", demo_config, "--set", "train.epochs=abc"}), {"train.epochs"});
  EXPECT_EQ(snapshot(dir_).size(), before.size() + 3);  // only the three configs written above
}

TEST_F(CommandErrors, FilesystemErrorsNameThePath) {
  const std::string regular = file("regular", "keep me");
  const auto before = snapshot(dir_);
  expect_error(run_qat({"train", demo_config, "--out", regular + "/run"}), {regular + "/run"});
  expect_error(run_qat({"train", demo_config, "--out", regular}), {regular, "not a directory"});
  expect_error(run_qat({"ptq", ptq_config, "--out", regular}), {regular, "not a directory"});
  expect_error(run_qat({"export", "model.h5", "--format", "onnx", "--out", dir_.string()}),
               {dir_.string(), "is a directory"});
  expect_error(run_qat({"export", "model.h5", "--format", "onnx", "--out", regular + "/x.onnx"}),
               {regular, "does not exist"});
  EXPECT_EQ(test::changed_files(before, snapshot(dir_)), "");
}

// IDX headers are checked before anything is allocated: sizes that overflow or exceed the limit, a zero
// dimension, a payload shorter than promised, all name the file.
TEST_F(CommandErrors, AbsurdIdxHeadersNameTheFile) {
  auto header = [](uint32_t magic, std::vector<uint32_t> dims) {
    std::string bytes;
    for (uint32_t v : std::vector<uint32_t>{magic}) dims.insert(dims.begin(), v);
    for (uint32_t v : dims)
      for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<char>(v >> shift));
    return bytes;
  };
  const std::string labels = header(0x801, {10}) + std::string(10, '\1');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {header(0x803, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}), "IDX header declares more than"},
      {header(0x803, {100000, 28, 28}), "IDX payload has 0 bytes"},
      {header(0x803, {10, 0, 28}), "IDX dimension 1 is 0"},
      {header(0x802, {10, 28, 28}), "bad IDX magic"},
      {std::string(2, '\0'), "truncated IDX header"}};
  for (const auto& [images, expected] : cases) {
    const std::string data = (dir_ / "data").string();
    file("data/train-images-idx3-ubyte.gz", images);
    file("data/train-labels-idx1-ubyte.gz", labels);
    expect_error(run_qat({"train", demo_config, "--set", "data.dir=" + data}),
                 {data + "/train-images-idx3-ubyte.gz", expected});
  }
}

TEST_F(CommandErrors, RunsAreNeverOverwrittenOrMixed) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const std::string run = (dir_ / "run").string();
  const Outcome first = run_qat(train_args({"--out", run, "--stop-after", "1"}));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string empty = (dir_ / "empty").string();
  fs::create_directories(empty);
  const auto before = snapshot(dir_);

  expect_error(run_qat(train_args({"--out", run})), {run, "--resume", "--overwrite", "last.h5"});
  expect_error(run_qat(train_args({"--out", run, "--resume", "--set", "train.lr=0.05", "--set", "seed=3"})),
               {"--resume", "train.lr", "seed"});
  expect_error(run_qat(train_args({"--out", run, "--resume", "--overwrite"})), {"--resume", "--overwrite"});
  expect_error(run_qat(train_args({"--out", empty, "--resume"})), {"--resume", empty, "no last.h5"});
  const std::string exported = file("model.onnx", "an earlier export");
  const auto with_export = snapshot(dir_);
  expect_error(run_qat({"export", run + "/last.h5", "--format", "onnx", "--out", exported}),
               {exported, "--overwrite"});
  expect_error(run_qat({"ptq", ptq_config, "--out", run}), {run, "--overwrite"});
  EXPECT_EQ(test::changed_files(with_export, snapshot(dir_)), "");
  fs::remove(exported);
  EXPECT_EQ(test::changed_files(before, snapshot(dir_)), "");

  // Fields that may change on resume do not stop it; the run ends as an uninterrupted one does.
  const Outcome resumed = run_qat(
      train_args({"--out", run, "--resume", "--set", "name=renamed", "--set", "train.eval_batch_size=32"}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const Outcome whole = run_qat(train_args({"--out", (dir_ / "whole").string()}));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(test::json_field(resumed.output, "test_accuracy"),
            test::json_field(whole.output, "test_accuracy"));
  EXPECT_EQ(test::json_field(resumed.output, "final_train_loss"),
            test::json_field(whole.output, "final_train_loss"));
  // --overwrite replaces the run.
  EXPECT_EQ(run_qat(train_args({"--out", run, "--overwrite", "--stop-after", "1"})).exit_code, 0);
}

// A loss that turns non-finite names the first non-finite parameter, layer output or gradient and the
// likely cause; images that do not fit the model name the data file; an init_checkpoint that lacks
// tensors of modules the model shares with it names them.
TEST_F(CommandErrors, TrainingFailuresNameTheirSource) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const Outcome diverged = run_qat(train_args({"--set", "train.lr=1e30", "--set", "train.epochs=1"}));
  expect_error(diverged, {"loss became", "learning rate"});
  EXPECT_TRUE(diverged.output.find("layer '") != std::string::npos ||
              diverged.output.find("parameter '") != std::string::npos ||
              diverged.output.find("gradient of '") != std::string::npos)
      << diverged.output;
  expect_error(run_qat(train_args({"--set", "model.in_channels=3"})),
               {fashion_mnist_image_file("train"), "do not fit the model", "1 channel(s) of 28x28"});

  const std::string source = std::string(QAT_SOURCE_DIR) + "/experiments/checkpoints/fmnist_resnet20_fp32.h5";
  Checkpoint partial = load_checkpoint(source);
  std::string dropped;
  for (const auto& [name, tensor] : partial.model)
    if (name.find("conv") != std::string::npos && name.find("layer2") != std::string::npos) dropped = name;
  ASSERT_FALSE(dropped.empty());
  partial.model.erase(dropped);
  const std::string partial_path = (dir_ / "partial.h5").string();
  save_checkpoint(partial_path, partial);
  expect_error(
      run_qat(train_args({"--set", "model.arch=resnet20", "--set", "init_checkpoint=" + partial_path})),
      {"init_checkpoint", partial_path, dropped, "missing"});
  const std::string convnet = (dir_ / "convnet").string();
  ASSERT_EQ(run_qat(train_args({"--out", convnet, "--stop-after", "1"})).exit_code, 0);
  expect_error(run_qat(train_args(
                   {"--set", "model.arch=resnet20", "--set", "init_checkpoint=" + convnet + "/last.h5"})),
               {"init_checkpoint", "none of the model's"});
}

// A write that fails (here: every file capped at 4 KiB, as a full disk) is an error naming the file; the
// last good checkpoint is untouched, no temporary file is left, and the run resumes from it afterwards to
// the numbers of an uninterrupted run.
TEST_F(CommandErrors, AFullDiskNeverDamagesTheLastCheckpoint) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const std::string run = (dir_ / "run").string();
  ASSERT_EQ(run_qat(train_args({"--out", run, "--stop-after", "1"})).exit_code, 0);
  const auto good = snapshot(run);
  const Outcome full = run_qat(train_args({"--out", run, "--resume"}), 4096);
  expect_error(full, {"checkpoint", run, "disk full?"});
  for (const auto& [path, bytes] : snapshot(run)) {
    EXPECT_EQ(path.find(".tmp"), std::string::npos) << path;
    if (path.ends_with(".h5")) {
      EXPECT_EQ(bytes, good.at(path)) << path << " changed";
    }
  }
  const Outcome resumed = run_qat(train_args({"--out", run, "--resume"}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const Outcome whole = run_qat(train_args({"--out", (dir_ / "whole").string()}));
  EXPECT_EQ(test::json_field(resumed.output, "test_accuracy"),
            test::json_field(whole.output, "test_accuracy"));
  EXPECT_EQ(test::json_field(resumed.output, "final_train_loss"),
            test::json_field(whole.output, "final_train_loss"));
}

}  // namespace
}  // namespace qat
