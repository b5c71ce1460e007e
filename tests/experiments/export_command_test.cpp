// `qat export --format onnx` end to end: a briefly trained LSQ ResNet-20 (W4A4 and W2A2, from the committed
// float checkpoint) is exported, and ONNX Runtime (scripts/ort_eval.mjs, npm onnxruntime-node) reaches the
// accuracy of `qat eval` on a Fashion-MNIST test subset with the same logits; bad inputs name the problem.
#include "experiments/export_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "autograd/grad_mode.h"
#include "datasets/fashion_mnist.h"
#include "engine/error.h"
#include "experiments/checkpoint_model.h"
#include "experiments/data_pipeline.h"
#include "experiments/eval_command.h"
#include "experiments/train_command.h"
#include "tests/test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kTestImages = 300;  // the subset both evaluations run on
constexpr int kLogitImages = 64;  // images whose logits are compared one by one

const std::string kSource = QAT_SOURCE_DIR;

// Trains the LSQ ResNet-20 from the float checkpoint for a few steps; returns its model.h5.
fs::path train(const fs::path& dir, int bits) {
  CommandLine line;
  line.positional = {kSource + "/experiments/configs/fmnist_resnet20_lsq_w4a4.pbtxt"};
  line.overrides = {"init_checkpoint=" + kSource + "/experiments/checkpoints/fmnist_resnet20_fp32.h5",
                    "data.train_limit=256",
                    "data.test_limit=64",
                    "train.batch_size=64",
                    "train.epochs=1",
                    "quant.final_epochs=0",
                    "quant.weight_bits=" + std::to_string(bits),
                    "quant.act_bits=" + std::to_string(bits)};
  line.options["out"] = dir.string();
  run_train(line);
  return dir / "model.h5";
}

json export_onnx_file(const fs::path& checkpoint, const fs::path& out) {
  CommandLine line;
  line.positional = {checkpoint.string()};
  line.options = {{"format", "onnx"}, {"out", out.string()}};
  return json::parse(run_export(line));
}

// Why ONNX Runtime cannot run here, or "" when it can.
std::string missing_runtime() {
  if (std::system("node --version > /dev/null 2>&1") != 0) return "node not installed";
  if (!fs::exists(kSource + "/scripts/node_modules/onnxruntime-node"))
    return "onnxruntime-node not installed (cd scripts && npm install --ignore-scripts)";
  return "";
}

// The JSON line of scripts/ort_eval.mjs over the first kTestImages test images (discarded when none).
json run_onnx_runtime(const fs::path& model) {
  const std::string command = "node " + kSource + "/scripts/ort_eval.mjs " + model.string() + " --limit " +
                              std::to_string(kTestImages) + " --dump-logits " + std::to_string(kLogitImages);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string output;
  char buffer[4096];
  while (pipe && fgets(buffer, sizeof buffer, pipe.get())) output += buffer;
  return json::parse(output, nullptr, false);
}

// The checkpoint's logits on the first kLogitImages test images, as qat evaluates them.
std::vector<std::vector<float>> qat_logits(const fs::path& checkpoint) {
  const CheckpointModel loaded =
      load_checkpoint_model(checkpoint.string(), {"data.test_limit=" + std::to_string(kLogitImages),
                                                  "train.eval_batch_size=" + std::to_string(kLogitImages)});
  const auto data = make_pipeline(loaded.experiment);
  data->test().start_epoch(0);
  Batch batch;
  EXPECT_TRUE(data->test().next(batch));
  NoGrad no_grad;
  loaded.model->eval();
  const Tensor logits = loaded.model->forward(Variable(batch.inputs)).data();
  const std::vector<float> flat = logits.to_vector();
  const int64_t classes = logits.dim(1);
  std::vector<std::vector<float>> rows;
  for (int64_t i = 0; i < logits.dim(0); ++i)
    rows.emplace_back(flat.begin() + i * classes, flat.begin() + (i + 1) * classes);
  return rows;
}

double qat_accuracy(const fs::path& checkpoint) {
  CommandLine line;
  line.positional = {checkpoint.string()};
  line.overrides = {"data.test_limit=" + std::to_string(kTestImages)};
  return json::parse(run_eval(line))["test_accuracy"].get<double>();
}

// Exports `bits`-bit LSQ ResNet-20 and compares ONNX Runtime with qat on the test subset.
void check_runtime_matches(int bits) {
  if (!fs::exists(kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const fs::path dir =
      fs::temp_directory_path() / ("qat_export_w" + std::to_string(bits) + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path checkpoint = train(dir, bits);
  const json exported = export_onnx_file(checkpoint, dir / "model.onnx");
  EXPECT_EQ(exported["format"], "onnx");
  EXPECT_EQ(exported["bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(dir / "model.onnx")));
  EXPECT_GT(exported["nodes"].get<int>(), 100);
  if (const std::string missing = missing_runtime(); !missing.empty()) {
    fs::remove_all(dir);
    GTEST_SKIP() << "ONNX Runtime check skipped: " << missing;
  }
  const json ort = run_onnx_runtime(dir / "model.onnx");
  ASSERT_FALSE(ort.is_discarded()) << "scripts/ort_eval.mjs printed no JSON line";
  EXPECT_EQ(ort["samples"], kTestImages);
  EXPECT_NEAR(ort["accuracy"].get<double>(), qat_accuracy(checkpoint), 0.001) << ort.dump();
  // The classifier's output is float: logits agree up to float rounding (1e-3 of the largest logit).
  // The two runtimes sum convolutions in different orders, so now and then an activation lies within
  // float rounding of a rounding boundary of its grid and gets the neighbouring code in one of them;
  // the images where that happens (about 1 in 64 here) differ more.
  const std::vector<std::vector<float>> expected = qat_logits(checkpoint);
  ASSERT_EQ(ort["logits"].size(), expected.size());
  int differing = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto got = ort["logits"][i].get<std::vector<float>>();
    ASSERT_EQ(got.size(), expected[i].size());
    float largest = 0.0f, difference = 0.0f;
    for (size_t j = 0; j < got.size(); ++j) {
      largest = std::max(largest, std::abs(expected[i][j]));
      difference = std::max(difference, std::abs(got[j] - expected[i][j]));
    }
    differing += difference > 1e-3f * largest;
  }
  EXPECT_LE(differing, kLogitImages / 16) << "images whose logits differ by more than float rounding";
  fs::remove_all(dir);
}

TEST(ExportCommand, OnnxRuntimeMatchesQatEvalW4A4) { check_runtime_matches(4); }

TEST(ExportCommand, OnnxRuntimeMatchesQatEvalW2A2) { check_runtime_matches(2); }

std::string error_of(const CommandLine& line) {
  return test::error_of([&] { run_export(line); });
}

TEST(ExportCommand, BadInputsNameTheProblem) {
  const fs::path dir = fs::temp_directory_path() / ("qat_export_bad_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path truncated = dir / "truncated.h5";
  {
    std::ifstream in(kSource + "/experiments/checkpoints/fmnist_resnet20_fp32.h5", std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(truncated, std::ios::binary) << head;
  }
  CommandLine line;
  line.positional = {truncated.string()};
  line.options = {{"format", "onnx"}, {"out", (dir / "out.onnx").string()}};
  const std::string corrupt = error_of(line);
  EXPECT_NE(corrupt.find(truncated.string()), std::string::npos) << corrupt;
  EXPECT_NE(corrupt.find("truncated"), std::string::npos) << corrupt;
  EXPECT_FALSE(fs::exists(dir / "out.onnx"));

  line.positional = {(dir / "missing.h5").string()};
  EXPECT_NE(error_of(line).find("no such file"), std::string::npos) << error_of(line);

  line.options["format"] = "tflite";
  EXPECT_NE(error_of(line).find("--format 'tflite' is not supported (supported: onnx, packed)"),
            std::string::npos)
      << error_of(line);
  line.options = {{"format", "onnx"}};
  EXPECT_NE(error_of(line).find("--out FILE is required"), std::string::npos) << error_of(line);

  CommandLine convnet;
  convnet.positional = {kSource + "/experiments/configs/fmnist_convnet_demo.pbtxt"};
  convnet.overrides = {"data.train_limit=64", "data.test_limit=64", "train.epochs=1", "train.batch_size=32"};
  convnet.options["out"] = (dir / "convnet").string();
  run_train(convnet);
  line.positional = {(dir / "convnet" / "model.h5").string()};
  line.options = {{"format", "onnx"}, {"out", (dir / "out.onnx").string()}};
  EXPECT_NE(error_of(line).find("architecture 'convnet' is not supported (supported: resnet20)"),
            std::string::npos)
      << error_of(line);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qat
