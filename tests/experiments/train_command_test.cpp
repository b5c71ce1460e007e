// qat train end to end on a small real Fashion-MNIST subset: it learns, and a run stopped after one
// epoch and resumed ends with the same numbers as an uninterrupted run.
#include "experiments/train_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "datasets/fashion_mnist.h"

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

// The value of a numeric field in a one-line JSON object.
double field(const std::string& json, const std::string& name) {
  const size_t at = json.find("\"" + name + "\": ");
  EXPECT_NE(at, std::string::npos) << name << " in " << json;
  return std::stod(json.substr(at + name.size() + 4));
}

TEST(TrainCommand, LearnsAndResumesToTheSameNumbers) {
  if (!fs::exists(kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const fs::path dir = fs::temp_directory_path() / ("qat_train_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string whole = train({"train.epochs=3"}, (dir / "whole").string(), false);
  EXPECT_GT(field(whole, "test_accuracy"), 0.6);  // chance is 0.1
  EXPECT_TRUE(fs::exists(dir / "whole" / "result.json"));
  EXPECT_TRUE(fs::exists(dir / "whole" / "best.h5"));

  // The same run stopped after its first epoch, then resumed from its checkpoint.
  train({"train.epochs=3"}, (dir / "part").string(), false, "1");
  const std::string resumed = train({"train.epochs=3"}, (dir / "part").string(), true);
  EXPECT_EQ(field(resumed, "test_accuracy"), field(whole, "test_accuracy"));
  EXPECT_EQ(field(resumed, "final_train_loss"), field(whole, "final_train_loss"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
