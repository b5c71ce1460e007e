// qat train and qat eval end to end on a small real Fashion-MNIST subset: it learns, a run stopped after
// one epoch and resumed ends with the same numbers as an uninterrupted run, eval reproduces them.
#include "experiments/train_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "datasets/fashion_mnist.h"
#include "engine/context.h"
#include "engine/error.h"
#include "experiments/config_loader.h"
#include "experiments/eval_command.h"
#include "tests/test_util.h"
#include "trainers/checkpoint.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

std::string train(const std::vector<std::string>& overrides, const std::string& out, bool resume,
                  const std::string& stop_after = "") {
  CommandLine line;
  line.positional = {std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_convnet_demo.pbtxt"};
  line.overrides = {"data.train_limit=1024", "data.test_limit=512", "model.width=8", "train.batch_size=64"};
  line.overrides.insert(line.overrides.end(), overrides.begin(), overrides.end());
  if (!out.empty()) line.options["out"] = out;
  if (resume) line.options["resume"] = "true";
  if (!stop_after.empty()) line.options["stop-after"] = stop_after;
  return run_train(line);
}

TEST(TrainCommand, LearnsAndResumesToTheSameNumbers) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_train_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string whole = train({"train.epochs=3"}, (dir / "whole").string(), false);
  EXPECT_GT(test::json_field(whole, "test_accuracy"), 0.6);  // chance is 0.1
  EXPECT_TRUE(fs::exists(dir / "whole" / "result.json"));
  EXPECT_TRUE(fs::exists(dir / "whole" / "best.h5"));

  // The same run stopped after its first epoch, then resumed from its checkpoint.
  train({"train.epochs=3"}, (dir / "part").string(), false, "1");
  const std::string resumed = train({"train.epochs=3"}, (dir / "part").string(), true);
  EXPECT_EQ(test::json_field(resumed, "test_accuracy"), test::json_field(whole, "test_accuracy"));
  EXPECT_EQ(test::json_field(resumed, "final_train_loss"), test::json_field(whole, "final_train_loss"));

  // qat eval of the best checkpoint reproduces the accuracy training reported for it.
  CommandLine eval_line;
  eval_line.positional = {(dir / "whole" / "best.h5").string()};
  eval_line.overrides = {"data.test_limit=512"};
  EXPECT_EQ(test::json_field(run_eval(eval_line), "test_accuracy"),
            test::json_field(whole, "best_test_accuracy"));
  fs::remove_all(dir);
}

// AdamW with gradient clipping and a weight EMA (stored in the checkpoints) also resumes exactly.
TEST(TrainCommand, AdamWithClippingAndEmaResumesToTheSameNumbers) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_train_ema_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::vector<std::string> settings = {
      "train.epochs=2",       "train.optimizer=adamw",  "train.lr=0.003",       "train.weight_decay=0.01",
      "train.ema_decay=0.95", "train.grad_clip_norm=1", "data.train_limit=512", "data.test_limit=256"};
  const std::string whole = train(settings, (dir / "whole").string(), false);
  EXPECT_GT(test::json_field(whole, "test_accuracy"), 0.4);
  train(settings, (dir / "part").string(), false, "1");
  const std::string resumed = train(settings, (dir / "part").string(), true);
  EXPECT_EQ(test::json_field(resumed, "test_accuracy"), test::json_field(whole, "test_accuracy"));
  EXPECT_EQ(test::json_field(resumed, "final_train_loss"), test::json_field(whole, "final_train_loss"));
  fs::remove_all(dir);
}

// train.precision: "bf16" trains (oneDNN's bf16 convolutions), stores the setting in its checkpoints and
// leaves the process in f32 afterwards; on a CPU without AVX512-BF16 it is an error that says so and
// writes no checkpoint.
TEST(TrainCommand, Bf16PrecisionTrainsAndRoundTripsThroughTheCheckpoint) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_train_bf16_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  if (!Context::bf16_supported()) {
    const std::string message = test::error_of([&] { train({"train.precision=bf16"}, dir.string(), false); });
    EXPECT_NE(message.find("AVX512-BF16"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(dir / "last.h5"));
    EXPECT_EQ(Context::get().precision(), Precision::f32);
    fs::remove_all(dir);
    return;
  }
  const std::string result = train({"train.epochs=2", "train.precision=bf16"}, dir.string(), false);
  EXPECT_GT(test::json_field(result, "test_accuracy"), 0.6);
  EXPECT_EQ(Context::get().precision(), Precision::f32);
  const Checkpoint checkpoint = load_checkpoint((dir / "last.h5").string());
  EXPECT_EQ(parse_experiment(checkpoint.meta.at("config"), "last.h5").train().precision(), "bf16");
  fs::remove_all(dir);
}

TEST(TrainCommand, UnknownPrecisionNamesTheField) {
  CommandLine line;
  line.positional = {std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_convnet_demo.pbtxt"};
  line.overrides = {"train.precision=fp16"};
  const std::string message = test::error_of([&] { run_train(line); });
  EXPECT_NE(message.find("train.precision"), std::string::npos) << message;
  EXPECT_NE(message.find("fp16"), std::string::npos) << message;
}

TEST(TrainCommand, BadOptimizerAndScheduleNameTheField) {
  CommandLine line;
  line.positional = {std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_convnet_demo.pbtxt"};
  line.overrides = {"train.optimizer=adam"};
  try {
    run_train(line);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.optimizer"), std::string::npos) << e.what();
  }
}

TEST(EvalCommand, MissingOrCorruptCheckpointNamesTheFile) {
  const fs::path bad = fs::temp_directory_path() / ("qat_bad_" + std::to_string(::getpid()) + ".h5");
  std::ofstream(bad) << "not hdf5";
  CommandLine line;
  line.positional = {bad.string()};
  EXPECT_THROW(
      {
        try {
          run_eval(line);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
  fs::remove(bad);
}

}  // namespace
}  // namespace qat
