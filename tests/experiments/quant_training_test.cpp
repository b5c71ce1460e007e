// Quantization-aware training end to end from the committed full-precision ResNet-20 on a real
// Fashion-MNIST subset: NIPQ (noise phase, then the final STE phase) keeps most of the float accuracy,
// a stopped and resumed run ends with the same numbers, eval and inspect read the quantized checkpoint.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "datasets/fashion_mnist.h"
#include "engine/error.h"
#include "experiments/eval_command.h"
#include "experiments/inspect_command.h"
#include "experiments/train_command.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

std::string train(const std::string& method, const fs::path& out, const std::string& stop_after = "",
                  bool resume = false, const std::vector<std::string>& extra = {}) {
  CommandLine line;
  line.positional = {std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_resnet20_" + method +
                     "_w4a4.pbtxt"};
  line.overrides = {
      "init_checkpoint=" + std::string(QAT_SOURCE_DIR) + "/experiments/checkpoints/fmnist_resnet20_fp32.h5",
      "data.train_limit=384", "data.test_limit=300", "train.batch_size=64", "train.epochs=2"};
  line.overrides.insert(line.overrides.end(), extra.begin(), extra.end());
  line.options["out"] = out.string();
  if (resume) line.options["resume"] = "true";
  if (!stop_after.empty()) line.options["stop-after"] = stop_after;
  return run_train(line);
}

TEST(QuantTraining, NipqKeepsAccuracyResumesExactlyAndEvaluates) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_quant_train_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string whole = train("nipq", dir / "whole");
  EXPECT_GT(test::json_field(whole, "test_accuracy"), 0.8);  // the float model: about 0.93; chance: 0.1
  EXPECT_NEAR(test::json_field(whole, "avg_weight_bits"), 4.0, 0.1);

  train("nipq", dir / "part", "1");
  const std::string resumed = train("nipq", dir / "part", "", true);
  EXPECT_EQ(test::json_field(resumed, "test_accuracy"), test::json_field(whole, "test_accuracy"));
  EXPECT_EQ(test::json_field(resumed, "final_train_loss"), test::json_field(whole, "final_train_loss"));

  CommandLine eval;
  eval.positional = {(dir / "whole" / "model.h5").string()};
  EXPECT_EQ(test::json_field(run_eval(eval), "test_accuracy"), test::json_field(whole, "test_accuracy"));
  CommandLine inspect;
  inspect.positional = eval.positional;
  inspect.overrides = {"data.test_limit=64"};
  const std::string summary = run_inspect(inspect);
  EXPECT_NE(summary.find("\"weight_bits\": [8, 4, 4"), std::string::npos) << summary;
  EXPECT_DOUBLE_EQ(test::json_field(summary, "avg_weight_bits"), test::json_field(whole, "avg_weight_bits"));
  fs::remove_all(dir);
}

TEST(QuantTraining, LsqTrainsFromTheFloatCheckpointWithDistillation) {
  QAT_REQUIRE_DATASET(fs::exists(kFashionMnistDir), "dataset-fashion-mnist");
  const fs::path dir = fs::temp_directory_path() / ("qat_quant_lsq_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  // The float model of the init checkpoint is the teacher.
  EXPECT_GT(
      test::json_field(train("lsq", dir, "", false, {"quant.distill=true", "quant.distill_temperature=2"}),
                       "test_accuracy"),
      0.8);
  fs::remove_all(dir);
}

TEST(QuantTraining, BadQuantFieldsNameTheField) {
  CommandLine line;
  line.positional = {std::string(QAT_SOURCE_DIR) + "/experiments/configs/fmnist_resnet20_nipq_w4a4.pbtxt"};
  line.overrides = {"quant.method=magic"};
  auto message = [&] {
    try {
      run_train(line);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message().find("quant.method: unknown method 'magic'"), std::string::npos) << message();
  line.overrides = {"quant.target_avg_bits=3"};
  EXPECT_NE(message().find("need quant.learn_bits"), std::string::npos) << message();
  line.overrides = {"quant.noise=pink"};
  EXPECT_NE(message().find("quant.noise: unknown noise 'pink'"), std::string::npos) << message();
  // What a method supports comes from the method table, and the message lists the methods that can.
  line.overrides = {"quant.method=lsq", "quant.learn_bits=true"};
  EXPECT_NE(
      message().find("quant.learn_bits: method 'lsq' cannot learn its bit-width (methods that can: nipq)"),
      std::string::npos)
      << message();
  line.overrides = {"quant.method=dorefa", "quant.per_channel=true"};
  EXPECT_NE(message().find("quant.per_channel: method 'dorefa' has per-tensor weights only"),
            std::string::npos)
      << message();
}

}  // namespace
}  // namespace qat
